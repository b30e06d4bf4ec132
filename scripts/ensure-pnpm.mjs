// Refuse a stray `npm install`: it ignores the workspace and writes package-lock.json.
const agent = process.env.npm_config_user_agent ?? "";
if (!agent.startsWith("pnpm/")) {
  console.error("foliosim uses pnpm workspaces. Run: npx --yes pnpm@10.34.8 install");
  process.exit(1);
}

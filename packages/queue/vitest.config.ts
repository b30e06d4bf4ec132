import config from "../../configs/vitest.shared.js";
export default config;

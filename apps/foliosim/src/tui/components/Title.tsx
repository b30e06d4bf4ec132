import { Box, Text } from "ink";

export function Title({ children, detail }: { children: string; detail?: string }) {
  return (
    <Box>
      <Text bold>foliosim · {children}</Text>
      {detail ? <Text dimColor>  {detail}</Text> : null}
    </Box>
  );
}

import { Box, Text } from "ink";

/** The help line, generated from the screen's key map. */
export function HelpLine({ text, message }: { text: string; message?: string | null }) {
  return (
    <Box flexDirection="column" marginTop={1}>
      {message ? <Text>» {message}</Text> : null}
      <Text dimColor>{text}</Text>
    </Box>
  );
}

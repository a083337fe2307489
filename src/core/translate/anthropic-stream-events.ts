/**
 * The compact JSON of the Anthropic stream events that carry no content. The emitter writes them
 * as they are, and the reader recognises them without a JSON.parse.
 * @see https://docs.anthropic.com/en/docs/build-with-claude/streaming#event-types
 */
export const ANTHROPIC_PING_DATA = '{"type":"ping"}';
export const ANTHROPIC_MESSAGE_STOP_DATA = '{"type":"message_stop"}';

export function contentBlockStopData(index: number): string {
  return `{"type":"content_block_stop","index":${index}}`;
}

export function emptyTextBlockStartData(index: number): string {
  return `{"type":"content_block_start","index":${index},"content_block":{"type":"text","text":""}}`;
}

/**
 * One destination of a stream: its own SRT session (reconnecting), start
 * gate and statistics. The box's stream unit sends to one or two of them;
 * `fieldcast receive --forward A --forward B` sends each bonded stream it
 * terminates to two of them (src/bond/receiver-fanout.ts).
 */
export {
  DestinationOutput,
  type DestinationOutputEvents,
  type DestinationOutputOptions,
  type DestinationOutputState,
  type DestinationSrtStats,
  destinationUrl,
  type LeadSrtStats,
  leadSrtStats,
} from './destination-output.js';

import type { RelayTap } from '@webmon/relay';

/** What the recorders need of a relay: its tap (`@webmon/relay`'s `Relay` has it). */
export interface Tappable {
  tap(listener: RelayTap): () => void;
}

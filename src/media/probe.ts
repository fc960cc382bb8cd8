/** What this box can encode and hear (the media part of `fieldcast probe`). */
import { loadNative } from '../native/binding.js';
import type { NativeMediaProbe } from '../native/media.js';

export type MediaProbe = NativeMediaProbe & {
  /** The encoder `codec: auto` would pick: the first that opens, in the order probed. */
  autoPick: string | undefined;
};

/** Opens each H.264 encoder at a small size (off the JS thread) and lists ALSA capture devices. */
export async function probeMedia(): Promise<MediaProbe> {
  const p = await loadNative().probeMedia();
  return { ...p, autoPick: p.videoEncoders.find((e) => e.opens)?.name };
}

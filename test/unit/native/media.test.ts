/**
 * Contract of the media exports (src/native/media.ts): every export is
 * called, with good and bad arguments; bad ones give a clear error and no
 * crash. And the named errors a user sees when an encoder is missing.
 */
import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  EncoderOpenFailedError,
  EncoderSession,
  EncoderUnavailableError,
  MediaOptionsError,
  probeMedia,
} from '../../../src/media/index.js';
import { loadNative, nativeAvailable } from '../../../src/native/index.js';
import type { NativeSessionMessage } from '../../../src/native/media.js';
import { skipWithout } from '../../peers.js';

const skip = skipWithout('the media addon contract tests', nativeAvailable() ? [] : ['the native addon (npm run build:native)']);

/** The ALSA card numbers the kernel has (none without /proc/asound). */
function alsaCards(): number[] {
  if (!existsSync('/proc/asound')) return [];
  return readdirSync('/proc/asound')
    .filter((n) => /^card\d+$/.test(n))
    .map((n) => Number(n.slice(4)));
}

describe.skipIf(skip)('native media exports', () => {
  it('probeMedia lists every candidate encoder in auto order and libx264 opens', async () => {
    const p = await loadNative().probeMedia();
    expect(p.videoEncoders.map((e) => e.name)).toEqual(['h264_v4l2m2m', 'h264_vaapi', 'h264_nvenc', 'h264_rkmpp', 'libx264']);
    expect(p.videoEncoders.find((e) => e.name === 'libx264')).toMatchObject({ present: true, opens: true });
    // Every encoder that does not open says why; one that is absent does not open.
    expect(p.videoEncoders.filter((e) => !e.opens && !e.error).map((e) => e.name)).toEqual([]);
    expect(p.videoEncoders.filter((e) => !e.present && e.opens).map((e) => e.name)).toEqual([]);
    expect(p.audioEncoder).toMatchObject({ name: 'aac', present: true, opens: true });
    // Capture devices of the cards the kernel has (none on a machine without sound hardware).
    const cards = alsaCards();
    for (const a of p.audioInputs) {
      expect(a).toEqual({ device: expect.stringMatching(/^hw:\d+,\d+$/), card: expect.any(String), name: expect.any(String) });
      expect(cards).toContain(Number(a.device.slice(3).split(',')[0]));
    }
    expect(p.audioInputs.length === 0 || cards.length > 0).toBe(true);
    // auto picks the first encoder, in that order, that opens.
    expect((await probeMedia()).autoPick).toBe(p.videoEncoders.find((e) => e.opens)!.name);
  });

  it('EncodeSession rejects bad arguments with a clear error', () => {
    const { EncodeSession } = loadNative();
    const ctor = EncodeSession as unknown as new (...a: unknown[]) => unknown;
    expect(() => new ctor()).toThrow(/options object and a function/);
    expect(() => new ctor({}, 'not a function')).toThrow(/options object and a function/);
    expect(() => new ctor({ width: 'wide' }, () => {})).toThrow(/width must be a number/);
    expect(() => new ctor({ width: 1280, height: 720, fpsNum: 30, bitrate: -5 }, () => {})).toThrow(/bitrate is out of range/);
    expect(() => new ctor({ videoSource: 7 }, () => {})).toThrow(/videoSource must be a string/);
    expect(() => new ctor({ paced: 'yes' }, () => {})).toThrow(/paced must be a boolean/);
    expect(() => new ctor({ videoSource: 'testpattern' }, () => {})).toThrow(/needs a width, height and frame rate/);
    const good = { width: 320, height: 240, fpsNum: 30 };
    expect(() => new ctor({ ...good, preset: 'nope' }, () => {})).toThrow(/preset "nope" is not one of/);
    expect(() => new ctor({ ...good, profile: 'weird' }, () => {})).toThrow(/profile "weird" is not one of/);
    expect(() => new ctor({ ...good, level: 'x' }, () => {})).toThrow(/level must look like 4.1/);
    expect(() => new ctor({ ...good, thumbnailWidth: 'small' }, () => {})).toThrow(/thumbnailWidth must be a number/);
    expect(() => new ctor({ ...good, thumbnailWidth: 5000 }, () => {})).toThrow(/thumbnailWidth is out of range/);
  });

  it('EncodeSession: start once, live controls checked, close idempotent, messages in order', async () => {
    const { EncodeSession } = loadNative();
    const messages: NativeSessionMessage[] = [];
    const s = new EncodeSession(
      {
        videoSource: 'testpattern',
        v4l2Input: -1,
        audioSource: 'testtone',
        inputName: '',
        paced: false,
        maxFrames: 10,
        codec: 'libx264',
        width: 320,
        height: 240,
        fpsNum: 25,
        fpsDen: 1,
        bitrate: 500_000,
        maxrate: 0,
        bufsize: 0,
        rateControl: 'cbr',
        keyintSeconds: 2,
        profile: 'high',
        level: '',
        bframes: 0,
        preset: 'ultrafast',
        tune: 'zerolatency',
        audioBitrate: 128_000,
        audioChannels: 2,
        queueUnits: 64,
        queueBytes: 1 << 22,
        thumbnailWidth: 0,
      },
      (m) => messages.push(m),
    );
    expect(s.stats().videoFrames).toBe(0);
    expect(() => s.setVideoBitrate(Number.NaN)).toThrow(/from 10000/);
    expect(() => (s.setVideoBitrate as (x: unknown) => void)('fast')).toThrow(/a number is required/);
    s.start();
    expect(() => s.start()).toThrow(/already been started/);
    s.forceKeyframe();
    s.setVideoBitrate(400_000);
    while (!messages.some((m) => m.type === 'ended')) await new Promise((r) => setTimeout(r, 20));
    await Promise.all([s.close(), s.close()]);
    await s.close();
    expect(messages[0]).toMatchObject({
      type: 'started',
      videoCodec: 'libx264',
      width: 320,
      height: 240,
      audio: { sampleRate: 48_000, channels: 2 },
    });
    expect(messages.at(-1)).toEqual({ type: 'ended' });
    const video = messages.filter((m) => m.type === 'unit' && m.stream === 'video');
    expect(video.length).toBe(10);
    // 0.4 s of sound: no whole second measured yet, so no levels; thumbnails were off.
    expect(s.stats()).toMatchObject({
      videoFrames: 10,
      videoBitrate: 400_000,
      droppedVideo: 0,
      droppedAudio: 0,
      audioPeakDbfs: [],
      audioRmsDbfs: [],
    });
    expect(s.thumbnail()).toBeUndefined();
  });

  it('closing a session that was never started resolves, without a message, and again', async () => {
    const { EncodeSession } = loadNative();
    const messages: NativeSessionMessage[] = [];
    const s = new EncodeSession({ width: 320, height: 240, fpsNum: 30 } as never, (m) => messages.push(m));
    await expect(s.close()).resolves.toBeUndefined();
    await expect(s.close()).resolves.toBeUndefined();
    expect(messages).toEqual([]);
  });
});

describe.skipIf(skip)('EncoderSession errors an operator sees', () => {
  it('bad options never reach native code', async () => {
    await expect(EncoderSession.start({ width: 99 })).rejects.toThrow(MediaOptionsError);
  });

  it('an encoder this libavcodec lacks: ENCODER_UNAVAILABLE', async () => {
    const err = await EncoderSession.start({ codec: 'h264_rkmpp', width: 320, height: 240, paced: false, maxFrames: 1 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(EncoderUnavailableError);
    expect((err as EncoderUnavailableError).code).toBe('ENCODER_UNAVAILABLE');
    expect((err as Error).message).toMatch(/h264_rkmpp/);
  });

  it('a hardware encoder without its hardware: ENCODER_OPEN_FAILED', async () => {
    const err = await EncoderSession.start({ codec: 'h264_nvenc', width: 320, height: 240, paced: false, maxFrames: 1 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(EncoderOpenFailedError);
    expect((err as Error).message).toMatch(/h264_nvenc/);
  });

  it('an audio device that does not exist: the stream carries silence and says why', async () => {
    const s = await EncoderSession.start({
      audio: 'hw:97,0',
      width: 320,
      height: 240,
      fps: '25',
      codec: 'libx264',
      preset: 'ultrafast',
      maxFrames: 25,
    });
    const events: string[] = [];
    let audio = 0;
    s.on('event', (e) => events.push(e.code));
    s.on('accessUnit', (u) => {
      if (u.stream === 'audio') audio++;
    });
    await s.whenClosed();
    expect(s.stats().audioSilence).toBe(true);
    expect(audio).toBeGreaterThan(30); // about 1 s of 1024-sample frames
    expect(events).toContain('AUDIO_SILENCE');
    expect(s.info.audio).toEqual({ sampleRate: 48_000, channels: 2 });
  });
});

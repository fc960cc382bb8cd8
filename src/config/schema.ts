/**
 * The appliance's whole configuration as one zod schema. Every key has a
 * validator, a default and a description; the TypeScript types are derived
 * from it. `fieldcast config defaults` prints the defaults with descriptions.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { SRT_PASSPHRASE_LENGTH } from '../srt/url.js';

const bitrate = z.number().int().min(100_000).max(120_000_000);

export const srtUrl = z
  .string()
  .regex(/^srt:\/\/(\[[0-9a-fA-F:.]+\]|[^\s/:?#[\]]+):\d{1,5}([/?].*)?$/, 'an SRT URL such as srt://ingest.example.com:5000?latency=1500');

/** An SRT passphrase, within the lengths libsrt accepts (src/srt/url.ts); the config and the pipeline channel both check it. */
const { min: PASS_MIN, max: PASS_MAX } = SRT_PASSPHRASE_LENGTH;
export const srtPassphrase = z
  .string()
  .min(PASS_MIN, `a passphrase of ${PASS_MIN} to ${PASS_MAX} characters`)
  .max(PASS_MAX, `a passphrase of ${PASS_MIN} to ${PASS_MAX} characters`);

export const VideoSource = z
  .string()
  .regex(/^(testpattern|\/dev\/video\d+(:\d+)?)$/, '"testpattern" or a V4L2 device such as /dev/video0 or /dev/video0:3 (device:input)')
  .describe('Picture source: the built-in test pattern, or a V4L2 capture device with an optional input number');

export const AudioSource = z
  .string()
  .regex(/^(testtone|none|hw:\d+(,\d+)?|plughw:\d+(,\d+)?|default)$/, '"testtone", "none" or an ALSA device such as hw:1,0')
  .describe('Sound source: the test tone (beep on each flash), none (silence is still sent), or an ALSA capture device');

export const InputConfig = z
  .object({
    name: z.string().min(1).max(40).default('Camera 1').describe('Name of the input as shown on the slate and status page'),
    video: VideoSource.default('testpattern'),
    audio: AudioSource.default('testtone'),
  })
  .describe('What is captured');

export const VideoConfig = z
  .object({
    codec: z
      .string()
      .regex(
        /^(auto|libx264|h264_v4l2m2m|h264_vaapi|h264_nvenc|h264_rkmpp)$/,
        'auto or one of libx264, h264_v4l2m2m, h264_vaapi, h264_nvenc, h264_rkmpp',
      )
      .default('auto')
      .describe('H.264 encoder: auto picks the first hardware encoder that opens, then libx264'),
    width: z.number().int().min(160).max(3840).multipleOf(2).default(1280).describe('Encoded width in pixels'),
    height: z.number().int().min(120).max(2160).multipleOf(2).default(720).describe('Encoded height in pixels'),
    fps: z.enum(['25', '29.97', '30', '50', '59.94', '60']).default('30').describe('Frame rate (29.97 and 59.94 are exact 1001 rates)'),
    bitrate: bitrate.default(6_000_000).describe('Target video bit rate in bit/s when the adaptive bitrate is off'),
    minBitrate: bitrate.default(1_000_000).describe('Lowest video bit rate the adaptive controller may choose'),
    maxBitrate: bitrate.default(8_000_000).describe('Highest video bit rate the adaptive controller may choose'),
    adaptive: z.boolean().default(true).describe('Adapt the bit rate to what the network carries'),
    rateControl: z.enum(['cbr', 'vbr']).default('cbr').describe('Encoder rate control'),
    keyframeSeconds: z.number().min(0.25).max(10).default(2).describe('Seconds between keyframes'),
    profile: z.enum(['baseline', 'main', 'high']).default('high').describe('H.264 profile'),
    bframes: z.number().int().min(0).max(3).default(0).describe('B-frames (0 keeps latency lowest)'),
    preset: z
      .enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium'])
      .default('superfast')
      .describe(
        'libx264 speed preset: superfast keeps 1080p30 real time on two cores with room for the rest, and keeps CABAC (ultrafast drops it at a cost in quality per bit)',
      ),
  })
  .describe('Video encoding');

export const AudioConfig = z
  .object({
    bitrate: z.number().int().min(32_000).max(320_000).default(128_000).describe('AAC-LC bit rate in bit/s'),
    channels: z.number().int().min(1).max(2).default(2).describe('Audio channels (sampled at 48 kHz, broadcast practice)'),
  })
  .describe('Audio encoding');

export const MuxConfig = z
  .object({
    delayMs: z.number().int().min(0).max(1000).default(100).describe('How far the PCR leads the decode time (ms)'),
    pcrIntervalMs: z.number().int().min(10).max(40).default(20).describe('Longest gap between PCRs (ms; DVB asks 40 at most)'),
    psiIntervalMs: z.number().int().min(20).max(100).default(100).describe('Longest gap between PAT/PMT (ms)'),
    cbrRate: z.number().int().min(0).max(120_000_000).default(0).describe('Constant mux rate in bit/s with null stuffing; 0 for VBR'),
    serviceName: z.string().min(1).max(64).default('Fieldcast').describe('Service name in the SDT'),
    providerName: z.string().min(1).max(64).default('Fieldcast').describe('Provider name in the SDT'),
    klv: z.boolean().default(false).describe('Carry a KLV metadata stream (SMPTE RP 217, drone telemetry)'),
  })
  .describe('MPEG-TS multiplexing');

/** A MediaConnect flow takes two sources (FAILOVER or MERGE); Fieldcast feeds at most that many. */
export const MAX_DESTINATIONS = 2;

/**
 * Why a bonded stream has one destination (the config's problem code): with
 * bond.enabled the destination's URL names the bonding receiver, and one
 * bonding group carries one SRT session. Two listeners are reached by the
 * receiver instead: `fieldcast receive --forward A --forward B` ends the
 * unit's session and sends the stream on to both (src/bond/receiver-fanout.ts).
 * That is better than two bonding groups over the same uplinks (twice the
 * registrations, keepalives and scheduler state, and two streams competing
 * for the same cellular capacity with two controllers that do not know of
 * each other): the uplinks carry the stream once, and the fan-out happens in
 * the cloud where bandwidth is cheap — which is what MediaConnect itself does
 * (one flow, outputs to many places). So the box's config still refuses a
 * second bonded destination, and its message says where the second one goes.
 */
export const BOND_ONE_DESTINATION = 'BOND_ONE_DESTINATION';

/** Whether two SRT URLs name the same listener (host and port; the query's options aside). */
function sameListener(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    return x.hostname.toLowerCase() === y.hostname.toLowerCase() && x.port === y.port;
  } catch {
    return a === b;
  }
}

export const DestinationConfig = z
  .object({
    name: z.string().min(1).max(40).default('ingest').describe('Name shown on the status page'),
    url: srtUrl.describe(
      'SRT URL of the ingest listener, e.g. a MediaConnect flow source; with bond.enabled, of the bonding receiver that forwards to it',
    ),
    latencyMs: z.number().int().min(20).max(15_000).default(1500).describe('SRT latency in ms (3-4x the worst RTT, more with loss)'),
    passphrase: srtPassphrase.optional().describe(`SRT AES passphrase (${PASS_MIN}-${PASS_MAX} characters); never logged`),
    pbkeylen: z
      .union([z.literal(16), z.literal(24), z.literal(32)])
      .default(32)
      .describe('AES key length in bytes: 16, 24 or 32'),
    streamId: z.string().max(512).optional().describe('SRT stream id, e.g. #!::r=resource,m=publish'),
  })
  .describe('Where the stream goes');

export const BondLinkConfig = z
  .object({
    name: z.string().min(1).max(32).describe('Link name, e.g. cell-a or eth0'),
    bind: z.string().min(1).optional().describe('Local address to send from (its uplink routes it)'),
    interface: z.string().min(1).max(15).optional().describe('Network interface to bind to (SO_BINDTODEVICE)'),
    via: z
      .string()
      .regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/, 'host:port')
      .optional()
      .describe('Send this link through a relay (a link emulator or proxy) instead of straight to the receiver'),
    priority: z.number().int().min(0).max(9).default(5).describe('Higher is preferred: ethernet/wifi above metered cellular'),
    enabled: z.boolean().default(true).describe('Carry the stream over this link (off: kept in the config, not used)'),
    backupOnly: z.boolean().default(false).describe('Idle until the other links cannot carry the stream'),
    metered: z.boolean().default(false).describe('A data plan pays for what this link carries (a cellular modem); see bond.meteredLinks'),
  })
  .describe('One uplink of a bonded stream');

export const BondConfig = z
  .object({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        'Send over several uplinks through a bonding receiver (SRTLA); the destination URL then names the receiver (fieldcast receive or any SRTLA receiver), which forwards to the ingest',
      ),
    links: z
      .array(BondLinkConfig)
      .max(16)
      .default([])
      .describe('The uplinks to bond; empty: every usable uplink the box has (see uplinks.interfaces), as they come and go'),
    preflightSeconds: z
      .number()
      .int()
      .min(0)
      .max(60)
      .default(0)
      .describe(
        'At power-on, try each link to the bonding receiver this long before streaming and log what to set (0: no; ctl preflight any time)',
      ),
    meteredLinks: z
      .enum(['when-needed', 'always'])
      .default('when-needed')
      .describe(
        'when-needed: metered links carry only what the free links cannot (stepping in at once when one fails); always: every link is bonded alike',
      ),
  })
  .describe('Bonded uplinks');

export const DataPlanConfig = z
  .object({
    name: z.string().min(1).max(40).describe('Name shown with its usage and in its alerts, e.g. "sim-a" or "Vodafone"'),
    link: z
      .string()
      .min(1)
      .max(32)
      .optional()
      .describe('The bonded link whose traffic it pays for: a name in bond.links, or the interface of a discovered uplink (wwan0)'),
    iccid: z
      .string()
      .regex(/^\d{18,22}$/, 'the SIM card number (ICCID), 18 to 22 digits')
      .optional()
      .describe("The SIM it pays for (its ICCID): counted on whichever modem holds it, through that modem's interface"),
    monthlyBytes: z
      .number()
      .int()
      .min(1_000_000)
      .max(1e15)
      .describe('Allowance per billing period in bytes, up and down together (e.g. 50000000000 for 50 GB)'),
    billingDay: z
      .number()
      .int()
      .min(1)
      .max(31)
      .default(1)
      .describe('Day of the month the allowance starts again (29-31: the last day of a shorter month)'),
    stopAtLimit: z.boolean().default(false).describe('Stop using the link once the allowance is used up, until the next billing day'),
  })
  .describe('A data plan: what one link may carry a month');

const interfacePattern = z
  .string()
  .regex(/^[\w.:*?-]{1,15}$/, 'an interface name or a glob such as eth* or wwan?')
  .describe('An interface name, or a glob (* and ?)');

export const UplinksConfig = z
  .object({
    interfaces: z
      .array(interfacePattern)
      .max(32)
      .default([])
      .describe(
        'The interfaces bonded when bond.links is empty, by name or glob, whatever their kind (empty: every ethernet, wifi and cellular one)',
      ),
    ignoreInterfaces: z.array(interfacePattern).max(32).default([]).describe('Interfaces never used as uplinks, by name or glob'),
    sourceRouting: z
      .boolean()
      .default(true)
      .describe('Give each uplink its own routing table and source rule, so each link leaves by its own interface (needs CAP_NET_ADMIN)'),
    preferences: z
      .array(
        z
          .object({
            interface: z.string().min(1).max(15).describe('The discovered uplink (its interface name, e.g. wwan0)'),
            enabled: z.boolean().default(true).describe('Carry the stream over it'),
            priority: z
              .number()
              .int()
              .min(0)
              .max(9)
              .optional()
              .describe('0-9, higher preferred (default: by kind, ethernet 7, wifi 6, cellular 5)'),
          })
          .strict(),
      )
      .max(32)
      .default([])
      .describe('What the operator chose for a discovered uplink (the status page and ctl uplink write these): off, or its priority'),
    dataPlans: z
      .array(DataPlanConfig)
      .max(16)
      .default([])
      .describe('Data plans of the metered links: usage kept across reboots, an alert at 80% and when used up'),
  })
  .describe('The uplinks');

export const ModemsConfig = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .describe('Look for modems at their AT ports, read them (identity, SIM, network, signal) and heal them'),
    apn: z
      .string()
      .regex(
        /^(?=.{1,100}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/,
        'an APN: letters, digits and hyphens, in parts joined by dots (e.g. internet or broadband.vodafone.uk)',
      )
      .optional()
      .describe("APN set on every modem found (unset: the modem's own)"),
    pinFile: z.string().min(1).optional().describe('A file holding the SIM PIN, used only when a SIM asks for it; never logged'),
    heal: z
      .boolean()
      .default(true)
      .describe('Re-register, then restart, a modem whose uplink stops passing traffic; each step is in the event log'),
  })
  .describe('Cellular modems');

/** Where the status page listens: `lan`, `loopback`, or an IP address of the box. */
const statusListenEntry = z
  .string()
  .refine((v) => v === 'lan' || v === 'loopback' || isIP(v) !== 0, '"lan", "loopback" or an IP address of this box')
  .describe('lan: loopback and every ethernet, wifi and bridge address (never a cellular uplink); loopback: this box only; or an address');

export const StatusConfig = z
  .object({
    listen: z
      .union([statusListenEntry.transform((v) => [v]), z.array(statusListenEntry).min(1).max(8)])
      .default(['lan'])
      .describe('Where the status page listens: "lan" (default), "loopback", or addresses; followed as interfaces come and go'),
    port: z.number().int().min(0).max(65535).default(80).describe('Port of the status page and its API (/api/v1/); 0 = not served'),
    https: z
      .boolean()
      .default(false)
      .describe('Serve the page over HTTPS with a self-signed certificate made at first start (its fingerprint is in the event log)'),
  })
  .describe('The status page and its API');

export const MetricsConfig = z
  .object({
    listen: z.string().min(1).default('127.0.0.1').describe('Address /metrics listens on (loopback: only this box)'),
    port: z.number().int().min(0).max(65535).default(0).describe('Port of /metrics (Prometheus text); 0 = not served'),
  })
  .describe('Prometheus metrics of the supervisor');

export const PanelConfig = z
  .object({
    enabled: z
      .boolean()
      .default(false)
      .describe("Drive the front panel: the board profile's display, buttons (long press: go live or stop; short: next page) and LEDs"),
    board: z
      .string()
      .regex(/^(auto|[a-z0-9-]+)$/, 'auto or the name of a file in hardware/boards (without .json)')
      .default('auto')
      .describe(
        'Board profile in hardware/boards: its front panel wiring and the thermal zones read for the temperature (auto: recognised from the device tree or DMI)',
      ),
  })
  .describe('The front panel and the board it is on');

export const RecordingConfig = z
  .object({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        'Record what the box sends, as MPEG-TS segments in the state directory (recordings/), with which seconds the destination acknowledged',
      ),
    segmentSeconds: z
      .number()
      .int()
      .min(2)
      .max(600)
      .default(30)
      .describe('Length of one recorded segment (s); each starts on a keyframe and plays alone'),
    maxBytes: z
      .number()
      .int()
      .min(16 << 20)
      .default(4 * 1024 ** 3)
      .describe('Most bytes the recordings may take; the oldest segments go first'),
    maxAgeMinutes: z
      .number()
      .int()
      .min(1)
      .max(60 * 24 * 30)
      .default(24 * 60)
      .describe('Segments older than this are deleted (minutes)'),
    minFreeBytes: z
      .number()
      .int()
      .min(1 << 20)
      .default(512 << 20)
      .describe(
        'Free space kept on the state partition: below it the oldest segments go, and recording pauses when none is left to delete',
      ),
  })
  .describe('Recording through outages (see README: recording)');

export const UpdateConfig = z
  .object({
    markGoodAfterS: z
      .number()
      .int()
      .min(10)
      .max(3600)
      .default(60)
      .describe(
        'After an update (A/B root slots, RAUC), how long fieldcast run must be healthy (streaming, or ready to stream) before the booted slot is marked good; unmarked, the box returns to the other slot',
      ),
  })
  .describe('Updates of the appliance image');

/** An OpenSSH public key line: its type, the base64 key, an optional comment (no options, no line breaks). */
const sshPublicKey = z
  .string()
  .max(16_384)
  .regex(
    /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( [^\r\n]*)?$/,
    'an OpenSSH public key line, e.g. "ssh-ed25519 AAAAC3Nza... operator@laptop" (the content of a .pub file)',
  );

export const SystemConfig = z
  .object({
    ssh: z
      .boolean()
      .default(false)
      .describe(
        'Run the SSH server (appliance image only): root may log in with a key in system.sshKeys, never a password; port 22 opens on LAN interfaces only, never on a cellular uplink',
      ),
    sshKeys: z
      .array(sshPublicKey)
      .max(16)
      .default([])
      .describe(
        'The public keys that may log in as root over SSH (each the content of a .pub file); kept on the state partition with the config',
      ),
  })
  .describe("The appliance's own system services: SSH (the firewall follows the config by itself)");

export const ConfigSchema = z
  .object({
    deviceName: z
      .string()
      .min(1)
      .max(40)
      .default('fieldcast')
      .describe('Name of this encoder, shown by fieldcast ctl status and in the event log'),
    autostart: z
      .boolean()
      .default(true)
      .describe(
        'Start streaming at power-on when a destination is configured (fieldcast ctl stop/start overrides it until the next power-on)',
      ),
    input: InputConfig.prefault({}),
    video: VideoConfig.prefault({}),
    audio: AudioConfig.prefault({}),
    mux: MuxConfig.prefault({}),
    destinations: z
      .array(DestinationConfig)
      .max(MAX_DESTINATIONS, `at most ${MAX_DESTINATIONS} destinations (a MediaConnect flow takes two sources)`)
      .default([])
      .describe(
        "Where the stream goes: one or two SRT destinations, sent byte-identical TS (a flow's two sources in FAILOVER or MERGE mode, or two flows); none: the box stays idle until one is set",
      ),
    bond: BondConfig.prefault({}),
    uplinks: UplinksConfig.prefault({}),
    modems: ModemsConfig.prefault({}),
    status: StatusConfig.prefault({}),
    metrics: MetricsConfig.prefault({}),
    panel: PanelConfig.prefault({}),
    recording: RecordingConfig.prefault({}),
    update: UpdateConfig.prefault({}),
    system: SystemConfig.prefault({}),
  })
  .strict()
  .check((ctx) => {
    const v = ctx.value.video;
    if (v.minBitrate > v.maxBitrate) {
      ctx.issues.push({
        code: 'custom',
        path: ['video', 'minBitrate'],
        input: v.minBitrate,
        message: `must not exceed video.maxBitrate (${v.maxBitrate})`,
      });
    }
    const b = ctx.value.bond;
    const dests = ctx.value.destinations;
    dests.forEach((d, i) => {
      const first = dests.findIndex((o) => sameListener(o.url, d.url));
      if (first < i)
        ctx.issues.push({
          code: 'custom',
          path: ['destinations', i, 'url'],
          input: d.url,
          message: `a listener no other destination has (destinations.${first}.url is the same)`,
        });
      if (dests.findIndex((o) => o.name === d.name) < i)
        ctx.issues.push({ code: 'custom', path: ['destinations', i, 'name'], input: d.name, message: 'a name no other destination has' });
    });
    // Bonded, one destination: see BOND_ONE_DESTINATION.
    if (b.enabled && dests.length > 1)
      ctx.issues.push({
        code: 'custom',
        path: ['destinations', 1],
        input: dests[1]?.url,
        params: { code: BOND_ONE_DESTINATION },
        message:
          'one destination when bond.enabled: a bonded stream goes to one bonding receiver; to reach two listeners, remove destinations.1 and run the receiver with both: fieldcast receive --forward srt://FIRST:PORT --forward srt://SECOND:PORT --passphrase-file FILE (the uplinks then carry the stream once); or turn bonding off to send to two listeners directly',
      });
    const plans = new Set<string>();
    ctx.value.uplinks.dataPlans.forEach((p, i) => {
      if ((p.link === undefined) === (p.iccid === undefined))
        ctx.issues.push({
          code: 'custom',
          path: ['uplinks', 'dataPlans', i, 'link'],
          input: p.link,
          message: 'either link or iccid (one of them)',
        });
      if (plans.has(p.name))
        ctx.issues.push({ code: 'custom', path: ['uplinks', 'dataPlans', i, 'name'], input: p.name, message: 'a name no other plan has' });
      plans.add(p.name);
    });
    const names = new Set<string>();
    b.links.forEach((l, i) => {
      if (names.has(l.name))
        ctx.issues.push({ code: 'custom', path: ['bond', 'links', i, 'name'], input: l.name, message: 'a name no other link has' });
      names.add(l.name);
    });
  });

/**
 * The encoder's settings: one shape from the config to the addon (issue:
 * "one shape, checked once where it enters"). Derived from the input, video
 * and audio sections, flat as the pipeline and the addon read them; size and
 * rate may be left out to keep a capture input's own. Built from a checked
 * config by `encoderSettingsFrom`, or parsed from what a tool or test gives
 * with `encoderSettings` — the one check they get.
 */
export const EncoderSettings = VideoConfig.omit({ width: true, height: true, fps: true })
  .extend({
    inputName: InputConfig.shape.name,
    video: VideoSource.default('testpattern'),
    audio: AudioSource.default('testtone'),
    width: VideoConfig.shape.width.removeDefault().optional(),
    height: VideoConfig.shape.height.removeDefault().optional(),
    fps: VideoConfig.shape.fps.removeDefault().optional(),
    audioBitrate: AudioConfig.shape.bitrate,
    channels: AudioConfig.shape.channels,
  })
  .strict()
  .check((ctx) => {
    const v = ctx.value;
    if ((v.width === undefined) !== (v.height === undefined))
      ctx.issues.push({ code: 'custom', path: ['width'], input: v.width, message: 'width and height go together' });
    if (v.minBitrate > v.maxBitrate)
      ctx.issues.push({
        code: 'custom',
        path: ['minBitrate'],
        input: v.minBitrate,
        message: `must not exceed maxBitrate (${v.maxBitrate})`,
      });
  });
export type EncoderSettingsT = z.output<typeof EncoderSettings>;
export type EncoderSettingsInput = z.input<typeof EncoderSettings>;

/** The encoder's settings a checked config gives (a mapping; nothing to check again). */
export function encoderSettingsFrom(config: Pick<Config, 'input' | 'video' | 'audio'>): EncoderSettingsT {
  const { input, video, audio } = config;
  return {
    ...video,
    inputName: input.name,
    video: input.video,
    audio: input.audio,
    audioBitrate: audio.bitrate,
    channels: audio.channels,
  };
}

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;
export type DestinationConfigT = z.infer<typeof DestinationConfig>;
export type StatusConfigT = z.output<typeof StatusConfig>;
export type PanelConfigT = z.output<typeof PanelConfig>;
export type UpdateConfigT = z.output<typeof UpdateConfig>;
export type BondLinkConfigT = z.infer<typeof BondLinkConfig>;
export type MuxConfigT = z.infer<typeof MuxConfig>;
export type BondConfigT = z.infer<typeof BondConfig>;
export type RecordingConfigT = z.output<typeof RecordingConfig>;

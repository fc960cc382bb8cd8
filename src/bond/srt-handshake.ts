/**
 * What an SRT caller's handshake says about encryption, read where the
 * receiver ends a unit's session for its forwards (receiver-fanout.ts): a
 * listener whose passphrase does not match the caller's refuses it inside
 * libsrt and says nothing, so the receiver reads the caller's conclusion
 * handshake itself to tell the operator which side lacks the passphrase.
 *
 * Layout (SRT Internet-Draft draft-sharabayko-srt §3.2.1, "Handshake"):
 * after the 16-byte packet header, version (32 bits), encryption field (16),
 * extension field (16), initial sequence number, MTU, flow window, handshake
 * type, socket id, SYN cookie (32 each), peer IP (128); then, in a version 5
 * conclusion, extension blocks of type (16) and length in 32-bit words (16).
 * The caller sets the KMREQ flag in the extension field, and sends a KMREQ
 * block (type 3), when it has a passphrase (§3.2.1.1, §3.2.2).
 */
import { SRT_CONTROL, SRT_HEADER_LEN, srtControlType } from './protocol.js';

const CIF_LEN = 48;
const HS_VERSION_5 = 5;
const HS_TYPE_CONCLUSION = 0xffffffff;
const EXT_FLAG_KMREQ = 0x0002;
const EXT_TYPE_KMREQ = 3;

/** 'encrypted' or 'clear' for a caller's version 5 conclusion handshake; undefined for any other packet. */
export function callerEncryption(msg: Uint8Array): 'encrypted' | 'clear' | undefined {
  if (srtControlType(msg) !== SRT_CONTROL.HANDSHAKE || msg.length < SRT_HEADER_LEN + CIF_LEN) return undefined;
  const v = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const cif = SRT_HEADER_LEN;
  if (v.getUint32(cif) !== HS_VERSION_5 || v.getUint32(cif + 20) !== HS_TYPE_CONCLUSION) return undefined;
  if (v.getUint16(cif + 6) & EXT_FLAG_KMREQ) return 'encrypted';
  for (let at = cif + CIF_LEN; at + 4 <= msg.length; ) {
    const type = v.getUint16(at);
    const words = v.getUint16(at + 2);
    if (type === EXT_TYPE_KMREQ) return 'encrypted';
    at += 4 + words * 4;
  }
  return 'clear';
}

/** Why a unit's session cannot come up at a fan-out receiver, in words an operator acts on. */
export interface UnitSessionProblem {
  code: 'RECEIVE_PASSPHRASE_NEEDED' | 'RECEIVE_UNIT_NOT_ENCRYPTED' | 'RECEIVE_SESSION_REFUSED';
  message: string;
}

/** Conclusions refused in a row (no session after them) before a passphrase that is set on both sides is called wrong. */
export const REFUSED_CONCLUSIONS_LIMIT = 3;

/**
 * What the unit's handshake and the receiver's passphrase say together:
 * libsrt refuses a caller whose encryption does not match the listener's
 * (SRTO_ENFORCEDENCRYPTION, on by default) without a word on the listener's
 * side, so this is all the operator would learn.
 */
export function unitSessionProblem(
  unit: 'encrypted' | 'clear',
  receiverHasPassphrase: boolean,
  refusedConclusions: number,
): UnitSessionProblem | undefined {
  if (unit === 'encrypted' && !receiverHasPassphrase)
    return {
      code: 'RECEIVE_PASSPHRASE_NEEDED',
      message:
        "the unit encrypts its stream and the receiver has no passphrase to decrypt it for the forwards: start fieldcast receive with --passphrase-file FILE holding the unit's destination passphrase",
    };
  if (unit === 'clear' && receiverHasPassphrase)
    return {
      code: 'RECEIVE_UNIT_NOT_ENCRYPTED',
      message:
        'the unit sends its stream unencrypted but the receiver was given a passphrase: set that passphrase on the unit (destinations.0.passphrase), or start the receiver without --passphrase-file',
    };
  if (unit === 'encrypted' && refusedConclusions >= REFUSED_CONCLUSIONS_LIMIT)
    return {
      code: 'RECEIVE_SESSION_REFUSED',
      message:
        "the unit's SRT session is refused here: check that --passphrase-file holds the unit's destination passphrase (the same one, 10-80 characters)",
    };
  return undefined;
}

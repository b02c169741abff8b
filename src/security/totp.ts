// TOTP (RFC 6238): SHA1, 6 digits, 30-second steps, T0 = 0 — secrets, the otpauth URI and code checks.
import { generateSecret, generateSync, generateURI, verifySync } from 'otplib';

export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
// ±1 step (about 90 s in all): RFC 6238 §5.2 allows one step of network delay; this is a documented deviation
// from ASVS 6.5.5's 30-second lifetime, accepted because phone clocks drift.
const TOLERANCE_SECONDS = TOTP_PERIOD_SECONDS;

/** A clock in milliseconds; the server's own, injectable in tests only. */
export type Clock = () => number;
export const systemClock: Clock = () => Date.now();

/** Creates a new secret: 20 random bytes (160 bits, the SHA1 output size; RFC 4226 §4 R6), base32. */
export function createTotpSecret(): string {
  return generateSecret({ length: 20 });
}

/** The otpauth:// URI an authenticator app scans, declaring SHA1, 6 digits and 30 s explicitly. */
export function totpUri(options: { issuer: string; accountName: string; secret: string }): string {
  const uri = generateURI({ issuer: options.issuer, label: options.accountName, secret: options.secret });
  return `${uri}&algorithm=SHA1&digits=${TOTP_DIGITS}&period=${TOTP_PERIOD_SECONDS}`;
}

/**
 * The QR code of `totpUri(options)` as a PNG data: URL, drawn here so that the secret never leaves the page for a
 * third party (ASVS 14.2.3). qrcode is loaded at the first use: only the pages that connect an app need it.
 */
export async function totpQrCode(options: { issuer: string; accountName: string; secret: string }): Promise<string> {
  const { default: QRCode } = await import('qrcode');
  return QRCode.toDataURL(totpUri(options), { errorCorrectionLevel: 'M', margin: 4, width: 264 });
}

/** Normalises what a person typed: spaces removed; undefined unless exactly six ASCII digits remain. */
export function normalizeTotpCode(input: unknown): string | undefined {
  if (typeof input !== 'string') return undefined;
  const code = input.replace(/\s+/g, '');
  return /^[0-9]{6}$/.test(code) ? code : undefined;
}

/** The RFC 6238 time step at a moment, as a safe integer (works well past 2038). */
export function timeStepAt(ms: number): number {
  return Math.floor(ms / 1000 / TOTP_PERIOD_SECONDS);
}

/**
 * Checks a code against steps T-1, T and T+1; returns the matching step, or undefined.
 * The caller must still record the step atomically so it can never be accepted twice.
 */
export function matchTotpStep(secret: string, code: string, clock: Clock = systemClock): number | undefined {
  const result = verifySync({ secret, token: code, epoch: Math.floor(clock() / 1000), epochTolerance: TOLERANCE_SECONDS });
  return result.valid && 'timeStep' in result ? result.timeStep : undefined;
}

/**
 * For a wrong code: how many minutes the phone's clock seems off, when the code matches a step within ten minutes
 * of now (never used to accept a code). Undefined when it matches nothing near, or is within the normal window.
 */
export function clockOffsetMinutes(secret: string, code: string, clock: Clock = systemClock): number | undefined {
  const result = verifySync({ secret, token: code, epoch: Math.floor(clock() / 1000), epochTolerance: 10 * 60 });
  if (!result.valid || !('delta' in result) || Math.abs(result.delta) <= 1) return undefined;
  return Math.round((result.delta * TOTP_PERIOD_SECONDS) / 60) || Math.sign(result.delta);
}

/** The code for a moment (tests stand in for the phone with this). */
export function totpCodeAt(secret: string | Uint8Array, ms: number): string {
  return generateSync({ secret, epoch: Math.floor(ms / 1000) });
}

/** Formats a base32 secret in groups of four for manual entry. */
export function groupSecret(secret: string): string[] {
  return secret.match(/.{1,4}/g) ?? [];
}

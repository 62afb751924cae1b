import { domainToASCII, domainToUnicode } from "node:url";
import { BadRequestError } from "./auth-errors.ts";
import { MESSAGES } from "./messages.ts";
import { isValidEmail } from "./credentials-policy.ts";

/** Refused anywhere in an address: controls, format characters (U+200B…), private use, unassigned, spaces, default-ignorables. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Cn}\p{Z}\p{Default_Ignorable_Code_Point}]/u;
/** What a domain may hold before IDNA: anything else (`%`, `/`, `:`…) could be rewritten by the URL host parser. */
const DOMAIN_CHARS = /^[\p{L}\p{M}\p{N}.-]+$/u;
/** Characters that belong to no one script (digits, punctuation, combining marks). */
const SCRIPTLESS = /[\p{Script=Common}\p{Script=Inherited}]/u;
const SCRIPTS: ReadonlyArray<readonly [string, RegExp]> = [
  ["Latin", /\p{Script=Latin}/u], ["Cyrillic", /\p{Script=Cyrillic}/u], ["Greek", /\p{Script=Greek}/u],
  ["Armenian", /\p{Script=Armenian}/u], ["Hebrew", /\p{Script=Hebrew}/u], ["Arabic", /\p{Script=Arabic}/u],
  ["Georgian", /\p{Script=Georgian}/u], ["Cherokee", /\p{Script=Cherokee}/u], ["Devanagari", /\p{Script=Devanagari}/u],
  ["Bengali", /\p{Script=Bengali}/u], ["Tamil", /\p{Script=Tamil}/u], ["Thai", /\p{Script=Thai}/u],
  ["Han", /\p{Script=Han}/u], ["Hiragana", /\p{Script=Hiragana}/u], ["Katakana", /\p{Script=Katakana}/u],
  ["Hangul", /\p{Script=Hangul}/u], ["Bopomofo", /\p{Script=Bopomofo}/u],
];
/** Script sets that are one writing system (UTS #39 "highly restrictive"): Japanese, Chinese, Korean, each with Latin. */
const ALLOWED_MIXES: ReadonlyArray<ReadonlySet<string>> = [
  new Set(["Latin", "Han", "Hiragana", "Katakana"]),
  new Set(["Latin", "Han", "Bopomofo"]),
  new Set(["Latin", "Han", "Hangul"]),
];

/** A refused address: 400 with a message that says why. */
export class EmailAddressError extends BadRequestError {
  constructor(reason: string, code: string) {
    super(`${MESSAGES.INVALID_EMAIL_FORMAT} (${reason})`, code);
  }
}

/**
 * The one form in which Gatehouse stores and compares an email address: NFKC-normalised,
 * lower-cased (as before), with an IDN domain in its ASCII (punycode) form, so that
 * `ａｄｍｉｎ@Example.com` is `admin@example.com` and `x@bücher.example` is `x@xn--bcher-kva.example`.
 * Refuses what could pass for another address: invisible and format characters (U+200B…),
 * a local part or a domain label mixing scripts (a Cyrillic `а` among Latin letters, also
 * when the domain arrives as punycode), empty domain labels, and Open WebUI's format rule.
 * With `onRefused`, a refused address returns that value instead of throwing (for callers with
 * their own refusal, like the OAuth callback's redirect).
 * @throws EmailAddressError (400)
 */
export function canonicalEmail(raw: string, onRefused?: string): string {
  if (onRefused === undefined) return canonical(raw);
  try {
    return canonical(raw);
  } catch (e) {
    if (e instanceof EmailAddressError) return onRefused;
    throw e;
  }
}

function canonical(raw: string): string {
  const email = raw.trim().normalize("NFKC").toLowerCase();
  if (INVISIBLE.test(email)) throw new EmailAddressError("it contains an invisible or format character", "ERR_EMAIL_INVISIBLE");
  const at = email.lastIndexOf("@");
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (at <= 0 || !isValidEmail(email) || !DOMAIN_CHARS.test(domain) || domain.split(".").some((l) => l === "")) {
    throw new EmailAddressError("not a valid address", "ERR_EMAIL_FORMAT");
  }
  const ascii = domainToASCII(domain);
  if (ascii === "" || ascii.split(".").length !== domain.split(".").length) {
    throw new EmailAddressError("the domain is not a valid internationalised domain name", "ERR_EMAIL_DOMAIN");
  }
  if (mixesScripts(local)) throw new EmailAddressError("the part before @ mixes alphabets", "ERR_EMAIL_MIXED_SCRIPT");
  // Checked in Unicode form, so a punycode domain cannot hide a mixed label.
  const unicode = domainToUnicode(ascii).normalize("NFKC");
  if (INVISIBLE.test(unicode) || unicode.split(".").some(mixesScripts)) {
    throw new EmailAddressError("the domain mixes alphabets", "ERR_EMAIL_MIXED_SCRIPT");
  }
  return `${local}@${ascii}`;
}

/** Whether `text` uses letters of two scripts that do not form one writing system together. */
function mixesScripts(text: string): boolean {
  const seen = new Set<string>();
  for (const ch of text) {
    if (SCRIPTLESS.test(ch)) continue;
    const script = SCRIPTS.find(([, re]) => re.test(ch))?.[0] ?? "other";
    seen.add(script);
  }
  if (seen.size <= 1) return false;
  return !ALLOWED_MIXES.some((mix) => [...seen].every((x) => mix.has(x)));
}

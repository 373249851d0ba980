// Secrets never reach an error, a log or a report: text that came from a BMC tool or service (which might echo what
// it was sent) is passed through redact() with the secrets in play before it is shown anywhere.

export function redact(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = text;
  for (const s of secrets) {
    // Very short "secrets" would blank out ordinary words; they are refused nowhere, just not matched here.
    if (s && s.length >= 3) out = out.split(s).join('***');
  }
  return out;
}

/**
 * Replaces every known secret value in a text with ***. The runners mask registered secrets too,
 * but our own redaction also covers local runs, files we write and values in error messages.
 */
export class Redactor {
  private readonly secrets = new Set<string>();

  add(value: string | undefined): void {
    // Very short values would mask ordinary words everywhere; runners refuse them too.
    if (value && value.length >= 3) this.secrets.add(value);
  }

  values(): string[] {
    return [...this.secrets];
  }

  redact(text: string): string {
    let out = text;
    // Longest first, so a secret that contains another is masked whole.
    for (const secret of [...this.secrets].sort((a, b) => b.length - a.length)) {
      out = out.split(secret).join('***');
    }
    return out;
  }
}

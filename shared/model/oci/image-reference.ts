import { checkTag, parseImageName, type ImageName } from '../../registry/reference.js';

export interface ImageReference {
  image: ImageName;
  /** A tag or a 'sha256:...' digest; 'latest' when the reference names neither. */
  reference: string;
}

/** Parses `[registry/]repository[:tag][@digest]`; returns a reason when it is not one. */
export function parseImageReference(text: string): ImageReference | string {
  const at = text.indexOf('@');
  let rest = at < 0 ? text : text.slice(0, at);
  const digest = at < 0 ? undefined : text.slice(at + 1);
  if (digest !== undefined && !/^sha256:[a-f0-9]{64}$/.test(digest)) return `'${text}' has a digest that is not sha256:<64 hex digits>`;
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    const problem = checkTag(tag);
    if (problem) return problem;
  }
  const image = parseImageName(rest);
  if (typeof image === 'string') return image;
  return { image, reference: digest ?? tag ?? 'latest' };
}

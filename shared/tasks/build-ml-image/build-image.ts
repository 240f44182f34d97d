import { UserError } from '../../util/errors.js';
import { computeContentDigest, type ContentDigest } from '../../context/content-digest.js';
import type { Builder, BuildSpec, RegistryAccess, ToolIo } from '../../build/builder.js';
import type { RegistryClient } from '../../registry/client.js';
import type { BuildInputs, ImageJob } from './inputs.js';
import { contentLabels, contentTag, explainRebuild, findBuiltContent } from './skip.js';

export interface ImageResult {
  name: string;
  image: string;
  references: string[];
  digest: string;
  imageRef: string;
  skipped: boolean;
  contentDigest: string;
  /** Why the image was built or skipped, for the log and the summary. */
  reason: string;
  seconds: number;
}

export interface BuildSession {
  inputs: BuildInputs;
  /** Chosen on first need: a run whose builds are all skipped never probes for docker or buildah. */
  builder: () => Promise<Builder>;
  /** Absent when push is off: nothing is asked of the registry then. */
  registry?: RegistryClient;
  access: RegistryAccess;
  /** Environment and cancel signal of the tools; each image adds its own log. */
  io: Omit<ToolIo, 'onLine'>;
  /** Labels every image gets (OCI annotations of the run). */
  baseLabels: ReadonlyMap<string, string>;
  signal: AbortSignal;
}

/** A log of one image: grouped when it is the only one, prefixed by its name when several run at once. */
export interface ImageLog {
  info(line: string): void;
  section<T>(title: string, body: () => Promise<T>): Promise<T>;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** Builds and pushes one image, or skips the build when the registry holds the same content. */
export async function buildImage(job: ImageJob, session: BuildSession, log: ImageLog): Promise<ImageResult> {
  const started = Date.now();
  const { inputs, registry } = session;
  const repository = job.image.repository;
  const references = inputs.tags.map((tag) => `${job.image.name}:${tag}`);
  const [firstTag, ...otherTags] = inputs.tags as [string, ...string[]];
  const result = (fields: Pick<ImageResult, 'digest' | 'skipped' | 'reason'>): ImageResult => ({
    name: job.name,
    image: job.image.name,
    references,
    imageRef: fields.digest ? `${job.image.name}@${fields.digest}` : '',
    contentDigest: content?.digest ?? '',
    seconds: (Date.now() - started) / 1000,
    ...fields,
  });

  let content: ContentDigest | undefined;
  let reason = !registry ? "'push' is false" : "'skipUnchanged' is false";
  if (registry && inputs.skipUnchanged) {
    content = await computeContentDigest({ ...job, buildArgs: inputs.buildArgs, target: inputs.target, platform: inputs.platform, signal: session.signal, env: session.io.env });
    log.info(`content digest ${content.digest} (${content.fileCount} files, ${megabytes(content.bytes)})`);
    const existing = await findBuiltContent(registry, repository, content);
    if (existing) {
      // The same content was built before: point the requested tags at it, no layer moves.
      for (const tag of inputs.tags) await registry.putManifest(repository, tag, existing);
      reason = `the registry already holds an image built from the same content (tag ${contentTag(content).slice(0, 26)}…)`;
      log.info(`skipped the build: ${reason}; tagged ${inputs.tags.join(', ')}`);
      return result({ digest: existing.digest, skipped: true, reason });
    }
    reason = await explainRebuild(registry, repository, inputs.tags, content);
    log.info(`building: ${reason}`);
  }

  const spec: BuildSpec = {
    context: job.context,
    dockerfile: job.dockerfile,
    localRef: `${job.image.name}:${firstTag}`,
    buildArgs: inputs.buildArgs,
    // The content labels come last: they must describe the build, whatever 'labels' says.
    labels: new Map([...session.baseLabels, ...inputs.labels, ...(content ? contentLabels(content) : [])]),
    target: inputs.target,
    platform: inputs.platform,
    cacheFrom: inputs.cacheFrom?.name,
    cacheTo: inputs.cacheTo?.name,
  };
  const builder = await session.builder();
  // The tool's own output goes to this image's log (prefixed when several build at once).
  const io: ToolIo = { ...session.io, onLine: (line) => log.info(line) };
  const imageId = await log.section(`Build ${spec.localRef}`, () => builder.build(spec, session.access, io));
  log.info(`built image ${imageId}`);
  if (!registry) return result({ digest: '', skipped: false, reason });

  const pushed = await log.section(`Push ${spec.localRef}`, () => builder.push(spec.localRef, spec.localRef, session.access, io));
  const manifest = await registry.getManifest(repository, firstTag);
  if (!manifest) throw new UserError(`registry ${job.image.registry}: ${spec.localRef} is missing right after the push`);
  if (manifest.digest !== pushed) log.info(`note: the registry serves ${manifest.digest}, the builder reported ${pushed}`);
  // Further tags, and last the content tag, point at the same manifest through the registry API.
  for (const tag of [...otherTags, ...(content ? [contentTag(content)] : [])]) {
    await registry.putManifest(repository, tag, manifest);
  }
  return result({ digest: manifest.digest, skipped: false, reason });
}

/** Annotation keys: ModelPack's layer keys (specs/modelpack/annotations.md) and the OCI standard ones. */
export const FILEPATH = 'org.cncf.model.filepath';
export const FILE_METADATA = 'org.cncf.model.file.metadata+json';
export const MEDIATYPE_UNTESTED = 'org.cncf.model.file.mediatype.untested';

export const OCI_CREATED = 'org.opencontainers.image.created';
export const OCI_TITLE = 'org.opencontainers.image.title';
export const OCI_DESCRIPTION = 'org.opencontainers.image.description';
export const OCI_VERSION = 'org.opencontainers.image.version';
export const OCI_SOURCE = 'org.opencontainers.image.source';
export const OCI_REVISION = 'org.opencontainers.image.revision';
export const OCI_BASE_NAME = 'org.opencontainers.image.base.name';
export const OCI_BASE_DIGEST = 'org.opencontainers.image.base.digest';

/**
 * CNCF ModelPack v1 media types (specs/modelpack/mediatype.go.txt) and which one a file gets.
 *
 * Layers are `.raw`: spec.md allows "an unarchived, uncompressed" file per layer, so the blob IS the
 * file: its digest is the file digest we already have (no second pass to build a tar), and, being
 * uncompressed, its DiffID in modelfs is that same digest. The file's path goes in the
 * `org.cncf.model.filepath` annotation, since a raw layer carries no name of its own.
 */
export const MODEL_ARTIFACT_TYPE = 'application/vnd.cncf.model.manifest.v1+json';
export const MODEL_CONFIG = 'application/vnd.cncf.model.config.v1+json';
export const MODEL_WEIGHT_RAW = 'application/vnd.cncf.model.weight.v1.raw';
export const MODEL_WEIGHT_CONFIG_RAW = 'application/vnd.cncf.model.weight.config.v1.raw';
export const MODEL_DOC_RAW = 'application/vnd.cncf.model.doc.v1.raw';
export const MODEL_CODE_RAW = 'application/vnd.cncf.model.code.v1.raw';

/** Documentation by name: README, LICENSE, NOTICE, a model card, any Markdown or plain text. */
const DOC = /(^|\/)(readme|license|licence|notice|copying|model_card|modelcard)(\.[^/]*)?$|\.(md|markdown|rst|txt|pdf)$/i;
/** Weight configuration: config.json, tokenizer files, generation configs, vocabularies, YAML. */
const WEIGHT_CONFIG = /\.(json|jsonl|ya?ml|toml|ini|cfg|conf|model|tiktoken|vocab|merges)$/i;
/** Tokenizer vocabularies are often .txt: named before the docs rule sees them. */
const VOCABULARY = /(^|\/)(vocab|merges|special_tokens|added_tokens)[^/]*$/i;
/** Code that ships with the model: custom modelling code, inference handlers. */
const CODE = /\.(py|ipynb|sh|js|ts|go|r|jl|java|scala|cpp|cc|c|h|rs|lua)$/i;

/**
 * Weights are everything else (safetensors, bin, pt, onnx, pkl, h5, gguf, ...): a model folder is
 * mostly weights, and a file we cannot name is more likely one than anything else. The layer says
 * the type was guessed with `org.cncf.model.file.mediatype.untested` where no rule named it.
 */
const WEIGHT = /\.(safetensors|bin|pt|pth|ckpt|onnx|pb|tflite|h5|keras|gguf|ggml|pkl|pickle|joblib|npy|npz|msgpack|mlmodel|params|engine|plan|xgb|ubj|lgb|cbm|mar|zip|tar|gz)$/i;

export interface LayerKind {
  mediaType: string;
  /** True when no rule recognised the file and it was taken for weights. */
  untested: boolean;
}

export function layerKindOf(path: string): LayerKind {
  if (WEIGHT.test(path)) return { mediaType: MODEL_WEIGHT_RAW, untested: false };
  if (VOCABULARY.test(path)) return { mediaType: MODEL_WEIGHT_CONFIG_RAW, untested: false };
  if (DOC.test(path)) return { mediaType: MODEL_DOC_RAW, untested: false };
  if (WEIGHT_CONFIG.test(path)) return { mediaType: MODEL_WEIGHT_CONFIG_RAW, untested: false };
  if (CODE.test(path)) return { mediaType: MODEL_CODE_RAW, untested: false };
  return { mediaType: MODEL_WEIGHT_RAW, untested: true };
}

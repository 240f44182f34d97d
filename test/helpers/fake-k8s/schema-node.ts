/**
 * A walk through an OpenAPI/structural schema alongside an object, for what server-side apply
 * needs to know of a field: is it a map, a list and which kind of list (x-kubernetes-list-type,
 * x-kubernetes-list-map-keys, or the older x-kubernetes-patch-merge-key the built-in types carry).
 */
export type ListKind = { type: 'atomic' } | { type: 'set' } | { type: 'map'; keys: string[] };

type Schema = Record<string, unknown>;

export class SchemaNode {
  constructor(
    private readonly schema: Schema,
    /** Resolves a $ref as written in the schema ('k8s#/definitions/X', 'crd#/definitions/h'). */
    private readonly lookup: (ref: string) => Schema | undefined,
  ) {}

  /** The schema with $ref and single-entry allOf followed. */
  private get resolved(): Schema {
    let schema = this.schema;
    for (let depth = 0; depth < 20; depth++) {
      if (typeof schema.$ref === 'string') schema = { ...this.lookup(schema.$ref), ...withoutKey(schema, '$ref') };
      else if (Array.isArray(schema.allOf) && schema.allOf.length === 1) schema = { ...(schema.allOf[0] as Schema), ...withoutKey(schema, 'allOf') };
      else break;
    }
    return schema;
  }

  /** The schema of a field of an object, or of any value of a map (additionalProperties). */
  field(name: string): SchemaNode | undefined {
    const schema = this.resolved;
    const properties = schema.properties as Record<string, Schema> | undefined;
    const inner = properties?.[name] ?? (typeof schema.additionalProperties === 'object' ? (schema.additionalProperties as Schema) : undefined);
    return inner ? new SchemaNode(inner, this.lookup) : undefined;
  }

  items(): SchemaNode | undefined {
    const items = this.resolved.items as Schema | undefined;
    return items ? new SchemaNode(items, this.lookup) : undefined;
  }

  listKind(): ListKind {
    const schema = this.resolved;
    const type = schema['x-kubernetes-list-type'];
    const keys = schema['x-kubernetes-list-map-keys'] as string[] | undefined;
    if (type === 'map' && keys?.length) return { type: 'map', keys };
    if (type === 'set') return { type: 'set' };
    if (type === 'atomic') return { type: 'atomic' };
    const mergeKey = schema['x-kubernetes-patch-merge-key'];
    if (typeof mergeKey === 'string' && schema['x-kubernetes-patch-strategy'] !== 'replace') return { type: 'map', keys: [mergeKey] };
    return { type: 'atomic' };
  }

  /** A map or struct the applier must replace whole (x-kubernetes-map-type: atomic). */
  atomicMap(): boolean {
    return this.resolved['x-kubernetes-map-type'] === 'atomic';
  }
}

function withoutKey(schema: Schema, key: string): Schema {
  const { [key]: _dropped, ...rest } = schema;
  return rest;
}

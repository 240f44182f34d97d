/**
 * A small router: patterns like '/api/v1/namespaces/:namespace/:resource/:name' matched per
 * method, first added wins. Handlers get the path parameters; what a handler receives beyond
 * that (request, response or upgraded socket) is the router's type parameter.
 */
export class Router<Context> {
  private readonly routes: { method: string; pattern: RegExp; names: string[]; handler: (context: Context, params: Record<string, string>) => unknown }[] = [];

  add(method: string, pattern: string, handler: (context: Context, params: Record<string, string>) => unknown): this {
    const names: string[] = [];
    const source = pattern
      .split('/')
      .map((segment) => {
        if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(segment.slice(1));
        return '([^/]+)';
      })
      .join('/');
    this.routes.push({ method, pattern: new RegExp(`^${source}/?$`), names, handler });
    return this;
  }

  /** The handler for a request, bound to its parameters; 'method' when only the method is wrong. */
  match(method: string, pathname: string): ((context: Context) => unknown) | 'method' | undefined {
    let pathMatched = false;
    for (const route of this.routes) {
      const match = route.pattern.exec(pathname);
      if (!match) continue;
      pathMatched = true;
      if (route.method !== method && route.method !== '*') continue;
      const params = Object.fromEntries(route.names.map((name, index) => [name, decodeURIComponent(match[index + 1] ?? '')]));
      return (context) => route.handler(context, params);
    }
    return pathMatched ? 'method' : undefined;
  }
}

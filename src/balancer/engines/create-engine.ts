/**
 * Builds the engine `--proxy-engine` names. The factory lives apart from the interface so that no
 * engine imports the file that imports it, and each engine is loaded with `import()` only when it
 * is the one chosen (http-proxy's modules stay unloaded on the undici default).
 */
import type { EngineHandlers, EngineSettings, ProxyEngine } from './proxy-engine.js';

export async function createProxyEngine(
  settings: EngineSettings,
  handlers: EngineHandlers,
): Promise<ProxyEngine> {
  if (settings.name === 'h1') {
    const { H1Engine } = await import('./h1-engine.js');
    return new H1Engine(settings, handlers);
  }
  if (settings.name === 'undici') {
    const { UndiciEngine } = await import('./undici-engine.js');
    return new UndiciEngine(settings, handlers);
  }
  const { HttpProxyEngine } = await import('./http-proxy-engine.js');
  return HttpProxyEngine.create(settings, handlers);
}

/** File URL of the built loader module (dist/loader.js), for worker pools that need JavaScript. */
export const catalogLoaderUrl: string = new URL(import.meta.url.endsWith(".ts") ? "../dist/loader.js" : "./loader.js", import.meta.url).href;

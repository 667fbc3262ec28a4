// reehubMediaExample is a Spectral function for a response's media type
// object: it has an `example` or a non-empty `examples`. A binary body (schema
// `type: string, format: binary`, such as a zip or a TAR download) is exempt:
// an inline example would be a made-up string that is not a zip or a TAR; the
// response's description and headers say what it carries.
export default function reehubMediaExample(media, _opts, ctx) {
  if (media === null || typeof media !== 'object') {
    return [];
  }
  const s = media.schema || {};
  if (s.type === 'string' && s.format === 'binary') {
    return [];
  }
  if (media.example !== undefined) {
    return [];
  }
  if (media.examples && Object.keys(media.examples).length > 0) {
    return [];
  }
  const [, path, method, , code, , type] = ctx.path;
  return [{ message: `${String(method).toUpperCase()} ${path}: response ${code} (${type}) has no example` }];
}

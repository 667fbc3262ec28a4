// reehubErrorResponses is a Spectral function for the operations of
// openapi.yaml: it reports each 4xx that the server can answer for an
// operation but that the operation does not document. Which codes are due
// follows from how server/middleware.go's gate treats a request:
//
//   secured  401 (no, or bad, credentials) and 403 (the credential lacks the
//            x-reehub-scope or the role), for an operation whose own or the
//            document's security requirement is not empty;
//   input    400 (the request fails validation against the spec), for an
//            operation with parameters (its own or its path's) or a body;
//   pathId   404 (no such resource, or another user's), for an operation
//            whose path has a {template} segment;
//   upload   413 (over the upload limit), for an operation taking a
//            multipart/form-data or application/octet-stream body.
//
// Options: {case: secured | input | pathId | upload}.
const CASES = {
  secured: {
    codes: { '401': 'missing or invalid credentials', '403': 'the credential lacks the scope or role' },
    applies: (op, ctx) => {
      const sec = op.security !== undefined ? op.security : ctx.document.data.security;
      return Array.isArray(sec) && sec.length > 0;
    },
    why: 'it requires authentication',
  },
  input: {
    codes: { '400': 'the request fails validation' },
    applies: (op, ctx, path) => {
      const pathItem = (ctx.document.data.paths || {})[path] || {};
      const params = (op.parameters || []).length + (pathItem.parameters || []).length;
      return params > 0 || op.requestBody !== undefined;
    },
    why: 'it takes parameters or a body',
  },
  pathId: {
    codes: { '404': 'no such resource' },
    applies: (op, ctx, path) => /\{[^}]+\}/.test(path),
    why: 'its path names a resource',
  },
  upload: {
    codes: { '413': 'the upload is over the limit' },
    applies: (op) => {
      const content = (op.requestBody && op.requestBody.content) || {};
      return 'multipart/form-data' in content || 'application/octet-stream' in content;
    },
    why: 'it takes an upload',
  },
};

export default function reehubErrorResponses(op, opts, ctx) {
  const c = CASES[opts && opts.case];
  if (!c) {
    throw new Error(`reehubErrorResponses: unknown case ${JSON.stringify(opts && opts.case)}`);
  }
  if (op === null || typeof op !== 'object') {
    return [];
  }
  const path = ctx.path[1];
  if (!c.applies(op, ctx, path)) {
    return [];
  }
  const responses = op.responses || {};
  const out = [];
  for (const [code, what] of Object.entries(c.codes)) {
    if (!(code in responses)) {
      out.push({
        message: `${op.operationId || ctx.path.join(' ')} must document ${code} (${what}): ${c.why}`,
        path: [...ctx.path, 'responses'],
      });
    }
  }
  return out;
}

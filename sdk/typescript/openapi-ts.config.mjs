// The TypeScript SDK's generator configuration: `make gen` runs it after
// bundling openapi.yaml; src/gen is generated (never edit it).
export default {
  input: '../../openapi.yaml',
  output: { path: 'src/gen', importFileExtension: '.js', format: null, lint: null },
  plugins: ['@hey-api/client-fetch', '@hey-api/typescript', '@hey-api/sdk'],
};

// Starts Swagger UI on this service's own OpenAPI document. It is a file,
// not an inline script, because /docs is served with a Content-Security-Policy
// that allows scripts from 'self' only.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    // Relative to /docs, i.e. /openapi.json (served by huma).
    url: "openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    // The default validator badge loads an image from an external host.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});

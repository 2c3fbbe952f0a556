"""The bundled offline demo: a small static regional news site and its server."""

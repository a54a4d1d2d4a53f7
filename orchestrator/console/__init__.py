"""The web console at /console: server-rendered pages (Jinja2) made live with htmx.

Why this approach: the control plane is Python and its API already has every operation the
console needs, so pages are rendered where the data is, as plain HTML forms that work without
script, and htmx (one file, fetched from npm at build time, `orchestrator/console/assets.py`)
adds partial updates, polling for live views and upload progress. There is no front-end build
and no second process; the console works with no internet.

Modules: `sessions` (who a browser is), `web` (what every page needs), `api_client` (pages call
the API in-process, signed as the user), `sign_in`, and one module per area of pages.
"""

"""Small texts shared by tests (HTTP and Slack ask the same questions; ingest and retrieval
both look at the same copies of a page)."""

from pathlib import Path

KEY_TEXT = (
    "To rotate the API key, open Settings, choose API and click Rotate key. "
    "The old API key keeps working for 24 hours after a rotation, then it stops. "
    "Only workspace admins can rotate an API key."
)
LEAVE_TEXT = (
    "Employees get 25 days of paid leave per year. Request leave in the HR portal at least "
    "two weeks ahead. Unused leave carries over until the end of March."
)

SECTIONS = {
    "Authentication": "Every request carries an API key in the Authorization header as a "
    "bearer token. Keys are created in the admin console under Settings and API keys, and each "
    "key belongs to one workspace. A request without a key, or with a revoked key, is answered "
    "with status 401 and a short message that says which header was missing.",
    "Rate limits": "Each workspace may send 600 requests per minute to the API. When the limit "
    "is reached the API answers with status 429 and a Retry-After header that says how many "
    "seconds to wait before the next request. Batch endpoints count as one request per item "
    "they carry.",
    "Pagination": "List endpoints return at most 100 items per page. The response holds a "
    "next_cursor field; pass it as the cursor parameter to read the following page, and stop "
    "when next_cursor is empty. Cursors expire after ten minutes, after which the listing "
    "starts again from the first page.",
    "Webhooks": "Webhooks deliver events to an HTTPS endpoint you register in the admin "
    "console. Each delivery is signed with the workspace secret in the X-Signature header, and "
    "a delivery that does not get a 2xx answer is retried five times with exponential backoff "
    "over about an hour.",
}


def api_reference(folder: Path) -> Path:
    """The same reference as Markdown and as rendered HTML, a few words apart."""
    folder.mkdir(parents=True, exist_ok=True)
    md = "\n\n".join(f"## {h}\n\n{t}" for h, t in SECTIONS.items())
    (folder / "api.md").write_text(f"# API reference\n\n{md}\n", encoding="utf-8")
    edited = dict(SECTIONS)
    edited["Rate limits"] = edited["Rate limits"].replace("600 requests", "600 calls")
    edited["Webhooks"] = edited["Webhooks"].replace("about an hour", "roughly an hour")
    body = "".join(f"<h2>{h}</h2><p>{t}</p>" for h, t in edited.items())
    page = (
        "<html><head><title>API reference</title></head><body><nav>Home | Guides</nav>"
        f"<h1>API reference</h1>{body}<footer>Last updated in March.</footer></body></html>"
    )
    (folder / "api.html").write_text(page, encoding="utf-8")
    return folder

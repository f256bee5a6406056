"""The one script a page may load: the point page's Media Session helper, a same-origin file (CSP
`script-src 'self'`, nothing inline). Its address carries a hash of its bytes, so it is cached for a year.
"""

import hashlib
from pathlib import Path

MEDIA_SESSION_JS = (Path(__file__).parent / "static" / "media-session.js").read_bytes()
MEDIA_SESSION_NAME = f"media-session.{hashlib.sha256(MEDIA_SESSION_JS).hexdigest()[:12]}.js"
MEDIA_SESSION_PATH = f"/assets/js/{MEDIA_SESSION_NAME}"
JS_TYPE = "text/javascript"

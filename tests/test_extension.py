"""The extension's files agree with the host: its ID, its permissions, its message vocabulary.

(The extension running in a real browser is tested in tests/e2e/.)
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import typing
from pathlib import Path

from host import protocol, vocabulary
from host.commands.install import EXTENSION_ID, HOST_NAME

EXTENSION = Path(__file__).resolve().parent.parent / "extension"
MANIFEST = json.loads((EXTENSION / "manifest.json").read_text())
PROTOCOL_JS = (EXTENSION / "protocol.js").read_text()


def test_extension_id_is_the_one_its_pinned_key_gives():
    digest = hashlib.sha256(base64.b64decode(MANIFEST["key"])).hexdigest()[:32]
    assert "".join(chr(ord("a") + int(c, 16)) for c in digest) == EXTENSION_ID


def test_manifest_asks_for_the_least_it_needs():
    assert MANIFEST["manifest_version"] == 3
    # idle: the screen locking switches the camera off (a setting); it shows no install warning
    assert sorted(MANIFEST["permissions"]) == ["idle", "nativeMessaging", "storage"]
    assert "host_permissions" not in MANIFEST
    [content_script] = MANIFEST["content_scripts"]
    assert content_script["matches"] == ["https://music.youtube.com/*"]
    assert content_script["js"] == ["content/ytmusic.js"]


def test_every_file_the_manifest_names_exists():
    named = [
        MANIFEST["background"]["service_worker"],
        MANIFEST["action"]["default_popup"],
        MANIFEST["options_ui"]["page"],
        *MANIFEST["content_scripts"][0]["js"],
        *MANIFEST["icons"].values(),
        *MANIFEST["action"]["default_icon"].values(),
    ]
    assert [name for name in named if not (EXTENSION / name).is_file()] == []


def test_generated_protocol_files_match_a_fresh_generation():
    """extension/protocol.js and host/web/protocol.js are `python -m host.protocol --js`'s."""
    root = EXTENSION.parent
    stale = [
        name for name in protocol.GENERATED_JS if (root / name).read_text() != protocol.javascript()
    ]
    assert stale == [], f"run `python -m host.protocol --js`: {stale} differ from the Python"


def test_generated_protocol_names_every_command_and_shared_name():
    for kind in protocol.COMMAND_TYPES:
        assert f"type: '{kind}'" in PROTOCOL_JS
    for code in vocabulary.ERROR_CODES:
        assert f"'{code}'" in PROTOCOL_JS
    assert f"export const HOST_NAME = '{HOST_NAME}';" in PROTOCOL_JS


def test_protocol_js_command_fields_are_the_hosts():
    builders = dict(re.findall(r"\(\{ type: '(\w+)'(.*?)\}\)", PROTOCOL_JS))
    models = {
        model.model_fields["type"].annotation.__args__[0]: model
        for model in typing.get_args(typing.get_args(protocol.Command)[0])
    }
    for kind, model in models.items():
        # ", video_id: videoId, liked" -> video_id, liked
        fields = [part.split(":")[0].strip() for part in builders[kind].split(",")[1:]]
        assert sorted(fields) == sorted(f for f in model.model_fields if f != "type"), kind

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
    page_world, isolated = MANIFEST["content_scripts"]
    for content_script in (page_world, isolated):
        assert content_script["matches"] == ["https://music.youtube.com/*"]
    # The page's own objects are reached from its world, early enough to see its media-key
    # handlers; the bridge to the worker runs isolated, once the page is there.
    assert page_world == {**page_world, "js": ["content/ytmusic_page.js"], "world": "MAIN"}
    assert page_world["run_at"] == "document_start"
    assert isolated["js"] == ["content/ytmusic.js"]
    assert "world" not in isolated
    # The isolated script imports the shared names; only YouTube Music may load that file.
    [shared] = MANIFEST["web_accessible_resources"]
    assert shared == {"resources": ["protocol.js"], "matches": ["https://music.youtube.com/*"]}


def test_every_shortcut_is_one_the_worker_knows_with_a_default():
    assert sorted(MANIFEST["commands"]) == sorted(vocabulary.SHORTCUTS)
    for shortcut in MANIFEST["commands"].values():
        assert shortcut["description"]
        assert shortcut["suggested_key"]["default"].startswith("Alt+Shift+")


def test_every_file_the_manifest_names_exists():
    named = [
        MANIFEST["background"]["service_worker"],
        MANIFEST["action"]["default_popup"],
        MANIFEST["options_ui"]["page"],
        *(name for script in MANIFEST["content_scripts"] for name in script["js"]),
        *MANIFEST["web_accessible_resources"][0]["resources"],
        *MANIFEST["icons"].values(),
        *MANIFEST["action"]["default_icon"].values(),
    ]
    assert [name for name in named if not (EXTENSION / name).is_file()] == []


def test_generated_protocol_files_match_a_fresh_generation():
    """extension/protocol.js is `python -m host.protocol --js`'s."""
    root = EXTENSION.parent
    committed = (root / protocol.GENERATED_JS).read_text()
    assert committed == protocol.javascript(), "run `python -m host.protocol --js`"


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

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

from host import protocol
from host.install import EXTENSION_ID, HOST_NAME

EXTENSION = Path(__file__).resolve().parent.parent / "extension"
MANIFEST = json.loads((EXTENSION / "manifest.json").read_text())
PROTOCOL_JS = (EXTENSION / "protocol.js").read_text()


def js_string_list(name: str) -> list[str]:
    """The strings of `export const <name> = [...]` in protocol.js."""
    body = re.search(rf"export const {name} = \[(.*?)\];", PROTOCOL_JS, re.S)
    assert body, f"protocol.js has no {name}"
    return re.findall(r"'([^']*)'", body.group(1))


def test_extension_id_is_the_one_its_pinned_key_gives():
    digest = hashlib.sha256(base64.b64decode(MANIFEST["key"])).hexdigest()[:32]
    assert "".join(chr(ord("a") + int(c, 16)) for c in digest) == EXTENSION_ID


def test_manifest_asks_for_the_least_it_needs():
    assert MANIFEST["manifest_version"] == 3
    assert sorted(MANIFEST["permissions"]) == ["nativeMessaging", "storage"]
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


def test_protocol_js_mirrors_the_hosts_vocabulary():
    assert f"export const HOST_NAME = '{HOST_NAME}';" in PROTOCOL_JS
    assert f"export const PROTOCOL_VERSION = {protocol.PROTOCOL_VERSION};" in PROTOCOL_JS
    assert tuple(js_string_list("EMOTIONS")) == protocol.EMOTIONS
    assert tuple(js_string_list("MODES")) == protocol.MODES
    commands = re.findall(r"\(\{ type: '(\w+)'", PROTOCOL_JS)
    assert sorted(commands) == sorted(protocol.COMMAND_TYPES)
    events = re.findall(r"^  [A-Z]+: '(\w+)',", PROTOCOL_JS, re.M)
    host_events = [e.model_fields["type"].default for e in typing.get_args(protocol.Event)]
    assert sorted(events) == sorted(host_events)


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

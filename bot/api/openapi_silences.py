"""The silences and deploys part of the OpenAPI document (bot/api/openapi.py merges it)."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def schemas(fields: Any, string: Schema) -> dict[str, Schema]:
    return {
        "Silence": {
            **fields(
                "id:int match:str reason:str by:str created:num until:num ended_by:str? window:str?"
            ),
            "description": "`created`/`until` are the database's clock (epoch seconds); "
            "`window` names the [[silences]] slot that opened it; GET adds `crashes`, the "
            "crashes held back so far.",
        },
        "Silences": fields("silences:[Silence]"),
        "SilenceChange": fields("silence:Silence"),
        "NewSilence": {
            "type": "object",
            "properties": {
                "match": {**string, "description": "A program, group or glob, optionally @node."},
                "for": {**string, "description": "How long: 1m to 7d, like 10m or 2h."},
                "reason": {**string, "description": "Shown in the listing and the summary."},
            },
            "required": ["match", "for"],
            "additionalProperties": False,
        },
        "Deploy": fields("id:int what:str version:str by:str actor:str at:num"),
        "DeployChange": fields("deploy:Deploy"),
        "NewDeploy": {
            "type": "object",
            "properties": {
                "what": {**string, "description": "The program, group or glob deployed."},
                "version": string,
                "by": {**string, "description": "Who or what deployed (e.g. ci)."},
            },
            "required": ["what", "version"],
            "additionalProperties": False,
        },
    }


def _created(op: Schema) -> Schema:
    op["responses"]["201"] = op["responses"].pop("200")
    op["responses"]["201"]["description"] = "Created"
    return op


def paths(op: Any, ref: Any, param: Any, read: str, act: str) -> dict[str, Any]:
    silence = param(
        "id", "path", {"type": "integer", "minimum": 1}, "A silence number (GET /api/v1/silences)."
    )
    return {
        "/api/v1/silences": {
            "get": op("Silences in force that name processes the token may see", "Silences", read),
            "post": _created(op(
                "Silence what `match` names (operator): crashes are counted, not posted, "
                "then summarized", "SilenceChange", act, body=ref("NewSilence"),
            )),
        },
        "/api/v1/silences/{id}": {"delete": op(
            "End a silence now (operator); its summary follows", "SilenceChange", act, silence,
        )},
        "/api/v1/deploys": {"post": _created(op(
            "Record a deploy (operator); the next incidents of its programs show it",
            "DeployChange", act, body=ref("NewDeploy"),
        ))},
    }  # fmt: skip

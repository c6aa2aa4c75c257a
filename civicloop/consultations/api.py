"""The JSON API, version 1: token-authenticated and scoped to one organisation.

`Authorization: Bearer <token>` (tokens from `civicloop token create`). Errors are
JSON: {"error": "...", "fields": {"key": ["message"]}}."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import ValidationError
from django.core.paginator import EmptyPage, Paginator
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from civicloop.consultations import questions as qt
from civicloop.consultations import selectors, services
from civicloop.consultations.models import Consultation, Response

MAX_BATCH = 500
PAGE_SIZE = 100


def _error(status: int, message: str, fields: dict[str, list[str]] | None = None) -> JsonResponse:
    body: dict[str, Any] = {"error": message}
    if fields:
        body["fields"] = fields
    return JsonResponse(body, status=status)


def api_view(
    methods: set[str],
) -> Callable[[Callable[..., JsonResponse]], Callable[..., JsonResponse]]:
    def decorator(view: Callable[..., JsonResponse]) -> Callable[..., JsonResponse]:
        @csrf_exempt  # token-authenticated, no cookies: CSRF does not apply
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
            if request.method not in methods:
                return _error(405, f"Use {' or '.join(sorted(methods))}.")
            header = request.headers.get("Authorization", "")
            if not header.startswith("Bearer "):
                return _error(401, "Send Authorization: Bearer <token>.")
            token = services.api_token_authenticate(header.removeprefix("Bearer ").strip())
            if token is None:
                return _error(401, "The token is not valid.")
            request.api_organisation = token.organisation  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        wrapped.civicloop_api_view = True  # type: ignore[attr-defined]
        return wrapped

    return decorator


def _consultation(request: HttpRequest, code: str) -> Consultation:
    return selectors.consultation_get(organisation=request.api_organisation, code=code)  # type: ignore[attr-defined]


def _summary(c: Consultation) -> dict[str, Any]:
    return {
        "code": c.code,
        "title": c.title,
        "summary": c.summary,
        "status": c.current_status(),
        "opens_at": c.opens_at.isoformat() if c.opens_at else None,
        "closes_at": c.closes_at.isoformat() if c.closes_at else None,
    }


@api_view({"GET"})
def consultation_list(request: HttpRequest) -> JsonResponse:
    items = selectors.consultation_list(organisation=request.api_organisation)  # type: ignore[attr-defined]
    return JsonResponse({"results": [_summary(c) for c in items]})


@api_view({"GET"})
def consultation_detail(request: HttpRequest, code: str) -> JsonResponse:
    c = _consultation(request, code)
    body = _summary(c)
    body["questions"] = [
        {
            "key": q.key,
            "type": q.type,
            "text": q.text,
            "required": qt.is_required(q),
            "options": [{"value": v, "label": str(label)} for v, label in qt.options_for(q)],
            "section": q.page.title,
        }
        for q in c.questions.select_related("page")
    ]
    return JsonResponse(body)


def _response_json(r: Response) -> dict[str, Any]:
    return {
        "reference": r.reference,
        "submitted_at": r.submitted_at.isoformat(),
        "channel": r.channel,
        "visibility": r.visibility,
        "flags": r.flags,
        "answers": r.answers,
    }


@api_view({"GET", "POST"})
def responses(request: HttpRequest, code: str) -> JsonResponse:
    c = _consultation(request, code)
    if request.method == "GET":
        paginator = Paginator(c.responses.order_by("submitted_at", "id"), PAGE_SIZE)
        try:
            page = paginator.page(request.GET.get("page") or 1)
        except (EmptyPage, ValueError):
            return _error(404, "No such page.")
        return JsonResponse(
            {
                "count": paginator.count,
                "page": page.number,
                "pages": paginator.num_pages,
                "results": [_response_json(r) for r in page],
            }
        )
    try:
        payload = json.loads(request.body or b"")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(400, "The body must be JSON.")
    batch = payload if isinstance(payload, list) else [payload]
    if not batch or len(batch) > MAX_BATCH:
        return _error(400, f"Send between 1 and {MAX_BATCH} responses.")
    results, failures = [], {}
    for index, item in enumerate(batch):
        if not isinstance(item, dict) or not isinstance(item.get("answers"), dict):
            failures[str(index)] = {"answers": ["Give answers as an object keyed by question key."]}
            continue
        key = item.get("idempotency_key") or ""
        try:
            response, created = services.response_submit(
                consultation=c,
                answers=item["answers"],
                channel=Response.Channel.API,
                idempotency_key=str(key) if key else f"api:{uuid.uuid4().hex}",
            )
        except services.ConsultationClosed as exc:
            return _error(409, " ".join(exc.messages))
        except ValidationError as exc:
            failures[str(index)] = (
                exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
            )
            continue
        results.append({"index": index, "reference": response.reference, "created": created})
    if failures and not results:
        fields = failures["0"] if not isinstance(payload, list) else {}
        return JsonResponse(
            {"error": "Validation failed.", "fields": fields}
            if fields
            else {"error": "Validation failed.", "items": failures},
            status=400,
        )
    status = 201 if any(r["created"] for r in results) else 200
    if isinstance(payload, list):
        return JsonResponse(
            {"results": results, "errors": failures}, status=207 if failures else status
        )
    return JsonResponse(results[0], status=status)


CODE_PARAMETER = {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}


def openapi(request: HttpRequest) -> JsonResponse:
    answers = {
        "type": "object",
        "additionalProperties": True,
        "description": "Answers keyed by question key.",
    }
    one = {
        "type": "object",
        "required": ["answers"],
        "properties": {"answers": answers, "idempotency_key": {"type": "string", "maxLength": 100}},
    }
    error = {
        "type": "object",
        "properties": {"error": {"type": "string"}, "fields": {"type": "object"}},
    }
    security: list[dict[str, list[str]]] = [{"bearer": []}]
    return JsonResponse(
        {
            "openapi": "3.1.0",
            "info": {"title": "civicloop API", "version": "1"},
            "components": {
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                "schemas": {"ResponseIn": one, "Error": error},
            },
            "security": security,
            "paths": {
                "/api/v1/consultations": {
                    "get": {
                        "summary": "List consultations",
                        "responses": {"200": {"description": "OK"}},
                    }
                },
                "/api/v1/consultations/{code}": {
                    "parameters": [CODE_PARAMETER],
                    "get": {
                        "summary": "A consultation with its questions, keys and types",
                        "responses": {
                            "200": {"description": "OK"},
                            "404": {"description": "Not found"},
                        },
                    },
                },
                "/api/v1/consultations/{code}/themes": {
                    "parameters": [CODE_PARAMETER],
                    "get": {
                        "summary": "Themes of each analysed free-text question, split by position, with campaigns",
                        "responses": {
                            "200": {"description": "OK"},
                            "404": {"description": "Not found"},
                        },
                    },
                },
                "/api/v1/consultations/{code}/responses": {
                    "parameters": [CODE_PARAMETER],
                    "get": {
                        "summary": "Responses, 100 a page",
                        "parameters": [
                            {
                                "name": "page",
                                "in": "query",
                                "schema": {"type": "integer", "minimum": 1},
                            }
                        ],
                        "responses": {"200": {"description": "OK"}},
                    },
                    "post": {
                        "summary": "Submit one response or a batch (array)",
                        "requestBody": {
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "oneOf": [
                                            {"$ref": "#/components/schemas/ResponseIn"},
                                            {
                                                "type": "array",
                                                "items": {
                                                    "$ref": "#/components/schemas/ResponseIn"
                                                },
                                                "maxItems": MAX_BATCH,
                                            },
                                        ]
                                    }
                                }
                            }
                        },
                        "responses": {
                            "201": {"description": "Stored"},
                            "200": {"description": "Already stored under this idempotency key"},
                            "207": {"description": "Batch with some failures"},
                            "400": {
                                "description": "Validation errors",
                                "content": {
                                    "application/json": {
                                        "schema": {"$ref": "#/components/schemas/Error"}
                                    }
                                },
                            },
                            "409": {"description": "Consultation not open"},
                        },
                    },
                },
            },
        }
    )

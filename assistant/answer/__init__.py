"""The answer engine: question → typed `Plan` → grounded, answer-first reply.

- `read.py`          the question read once into a `Reading` (names, constraints, flags, attributes, claims)
- `references.py`    what a follow-up refers to (它／第二個／這兩個, a stated requirement re-running the request)
- `rules.py`         the intent, by an ordered chain of small rules (`ask --json` shows the trace)
- `plan.py`          reading + resolution + rule → `Plan`
- `conversation.py`  replays earlier turns into a `ConversationState` (subjects, shortlist, constraints)
- `ranking.py`, `fitting.py`  hard filters, capability scores and the fit on the stated hardware
- `lookup.py`        sentence-level index of the article for "which model has P?" questions
- `render*.py`       answer-first text per intent (choice, facts, fit, lists, diff, suitability, scope);
                     `render.py` dispatches, the wording is `knowledge/messages/*.yaml`

`assistant.compose.compose()` is the single entry point the service, CLI and UI share.
"""

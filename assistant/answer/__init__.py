"""The answer engine: question → typed `Plan` → grounded, answer-first reply.

- `plan.py`          question (+ conversation) → `Plan` (intent, subjects, constraints, attribute …)
- `conversation.py`  replays earlier turns into a `ConversationState` (subjects, shortlist, constraints)
- `lookup.py`        sentence-level index of the article for "which model has P?" questions
- `recommend.py`     shortlist, task fitness and the "why not" a user would ask about
- `facts.py`         catalog facts about one model or family, and the rank/list queries
- `render.py`        answer-first zh-TW / English text for each intent

`assistant.compose.compose()` is the single entry point the service, CLI and UI share.
"""

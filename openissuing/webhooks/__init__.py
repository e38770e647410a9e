"""Webhook delivery: how a body is signed (``signer``), the dispatcher that sends
(``dispatcher``) and the synchronous real-time call (``realtime``).

Which endpoints hear which event are pure rules (``openissuing.domain.webhook_matching``);
the outbox itself (delivery rows written in the event's own transaction, and the claim /
record steps) is ``openissuing.services.deliveries``, and the in-process doorbell that
wakes dispatchers after a commit is ``openissuing.services.doorbell``.
"""

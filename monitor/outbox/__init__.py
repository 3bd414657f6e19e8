"""The transactional outbox: work a change asks for, written in the change's
own transaction and done later by the worker (monitor/worker)."""

from monitor.outbox.listener import install, warehouse_reasons
from monitor.outbox.models import OutboxEvent, Topic

__all__ = ["OutboxEvent", "Topic", "install", "warehouse_reasons"]

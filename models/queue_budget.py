"""How a subsystem's I/O queue pairs are divided between its controllers: Number of Queues from a shared pool.

A host asks for I/O queues with Set Features Number of Queues (07h) and
gets the controller's allocation, which holds until the controller's next
reset (NVMe base specification, Number of Queues). With several
controllers the queue table is one pool (docs/virtual_controllers.md),
so what one controller is granted another cannot have: a controller is
granted what it asks, up to its queue ids and what the others leave. A
controller holds an equal share of the pool from its reset on, if the
others left that much, and never less than one pair, so every host can
create an I/O queue.

Both sides keep one budget per subsystem: the firmware, to grant, and the
reference model, to predict the grant. A queue pair is one entry of the
table, its SQ and its CQ, so a grant is of pairs: max(NSQR, NCQR) + 1.
"""

from __future__ import annotations


class QueueBudget:
    """The I/O queue pairs each controller of a subsystem may create."""

    def __init__(self, pool: int, controllers: int, queue_ids: int) -> None:
        """``pool`` I/O queue pairs shared by ``controllers``, each with ``queue_ids`` I/O queue ids."""
        if not 1 <= controllers <= pool or queue_ids < 1:
            raise ValueError(f"{pool} queue pairs for {controllers} controllers of {queue_ids} queue ids: "
                             "each needs at least one")
        self.pool = pool
        self.queue_ids = queue_ids
        self.controllers = controllers
        self.allocations = [self.share] * controllers

    @classmethod
    def alone(cls, queue_ids: int) -> QueueBudget:
        """One controller, every queue id its own."""
        return cls(queue_ids, 1, queue_ids)

    @property
    def share(self) -> int:
        """A controller's allocation after its reset, if the others leave it that much."""
        return max(1, min(self.queue_ids, self.pool // self.controllers))

    def grant(self, controller: int, wanted: int) -> int:
        """Number of Queues: ``wanted`` pairs asked for; returns the controller's new allocation."""
        others = sum(self.allocations) - self.allocations[controller]
        self.allocations[controller] = max(1, min(wanted, self.queue_ids, self.pool - others))
        return self.allocations[controller]

    def reset(self, controller: int) -> int:
        """A controller reset: its allocation goes back to its share, or what the others left of it."""
        return self.grant(controller, self.share)

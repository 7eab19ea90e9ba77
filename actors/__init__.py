"""Actors own live state; everything else sends them messages. See actors/README.md."""

from actors.runtime import Actor, ActorDead, ActorRef, ActorSystem, Envelope, MailboxFull

__all__ = ["Actor", "ActorDead", "ActorRef", "ActorSystem", "Envelope", "MailboxFull"]

"""Fakes that several tests share: servers behind httpx.MockTransport, clocks that do not sleep."""

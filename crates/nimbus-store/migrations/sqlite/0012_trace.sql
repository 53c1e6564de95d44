-- Traces: the X-Ray header an asynchronous event was accepted with (the caller's
-- X-Amzn-Trace-Id, or a new trace), so every attempt and delivery of the event shares its
-- Root. NULL on rows written before this column existed (and on schedule slots): the engine
-- derives a stable root from the request id.
ALTER TABLE async_events ADD COLUMN trace_header TEXT;

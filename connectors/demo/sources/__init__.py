"""Each agency's sample source, in the format its connector reads: ``police`` (LRPPN-style CSV
exports in an inbox), ``gendarmerie`` (feed records put in the stand-in's store), ``douanes``
(customs XML reports) and ``citizen`` (the citizens' platform JSON-lines export). Every
``write_samples(…, seed, n)`` is deterministic for a seed, plants raw identifiers and malformed
records on purpose, and returns the ground truth a test checks the connector against."""

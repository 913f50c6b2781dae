"""Demo data of the intake: a throwaway test PKI and generated signed submissions (XML 130,
FHIR) for `make run`, the tests and the benchmarks."""

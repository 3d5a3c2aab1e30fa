from zhunong.core.errors import NotFound, PermissionDenied, ValidationFailed


class NotAnInspector(PermissionDenied):
    code = "not_an_inspector"
    message = "Only market-regulation inspectors record inspections."


class InspectorOutsideRegion(PermissionDenied):
    code = "inspector_outside_region"
    message = "This batch is outside the inspector's region."


class DuplicateSampleCode(ValidationFailed):
    code = "duplicate_sample_code"
    message = "An inspection with this sample code exists."


class ResultContradictsItems(ValidationFailed):
    code = "result_contradicts_items"
    message = "The result says pass, but a tested item is over its limit."


class TraceCodeNotFound(NotFound):
    code = "trace_code_not_found"
    message = "No batch has this trace code."


class CannotRecordChain(PermissionDenied):
    code = "cannot_record_chain"
    message = "Only the producer's manager or the county operator records processing and packing."


class InputExceedsBatch(ValidationFailed):
    code = "input_exceeds_batch"
    message = "More of the batch would be processed than was harvested."


class CertificateTypeNotAllowed(ValidationFailed):
    code = "certificate_type_not_allowed"
    message = "An inspection certificate is a PDF, JPEG or PNG file (judged by its content)."


class CertificateTooLarge(ValidationFailed):
    code = "certificate_too_large"
    message = "The inspection certificate is larger than allowed."

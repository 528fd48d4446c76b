/* GENERATED — do not edit (schemas/gen/gen_invariants.py, `make gen`) */
/*
 * fhir/validate/gen/invariants.c — the R4 invariants that only ask which
 * child elements are present, as truth tables (see gen_invariants.py).
 * Rule r of a type holds when bit `index` of r.table is set, where bit i
 * of index is "element r.elems[i] is present".
 */
#include "fhir/validate/validate_int.h"

const struct fhir_validate__rule fhir_validate__rules[70] = {
    /* Age: code.empty() or system.exists() */
    {UINT64_C(0xd), "qty-3", "if a code for the unit is present, the system SHALL also be present", {6, 5, 0, 0, 0, 0}, 2},
    /* Attachment: data.empty() or contentType.exists() */
    {UINT64_C(0xd), "att-1", "if the Attachment has data, it SHALL have a contentType", {4, 2, 0, 0, 0, 0}, 2},
    /* ContactPoint: value.empty() or system.exists() */
    {UINT64_C(0xd), "cpt-2", "a system is required if a value is provided", {3, 2, 0, 0, 0, 0}, 2},
    /* Count: code.empty() or system.exists() */
    {UINT64_C(0xd), "qty-3", "if a code for the unit is present, the system SHALL also be present", {6, 5, 0, 0, 0, 0}, 2},
    /* Distance: code.empty() or system.exists() */
    {UINT64_C(0xd), "qty-3", "if a code for the unit is present, the system SHALL also be present", {6, 5, 0, 0, 0, 0}, 2},
    /* Duration: code.empty() or system.exists() */
    {UINT64_C(0xd), "qty-3", "if a code for the unit is present, the system SHALL also be present", {6, 5, 0, 0, 0, 0}, 2},
    /* ElementDefinition: defaultValue.empty() or meaningWhenMissing.empty() */
    {UINT64_C(0x7), "eld-15", "default value and meaningWhenMissing are mutually exclusive", {20, 21, 0, 0, 0, 0}, 2},
    /* ElementDefinition: sliceIsConstraining.exists() implies sliceName.exists() */
    {UINT64_C(0xd), "eld-22", "sliceIsConstraining can only appear if slicename is present", {6, 5, 0, 0, 0, 0}, 2},
    /* ElementDefinition: pattern.empty() or fixed.empty() */
    {UINT64_C(0x7), "eld-8", "pattern and fixed are mutually exclusive", {24, 23, 0, 0, 0, 0}, 2},
    /* Expression: expression.exists() or reference.exists() */
    {UINT64_C(0xe), "exp-1", "an expression or a reference must be provided", {5, 6, 0, 0, 0, 0}, 2},
    /* Quantity: code.empty() or system.exists() */
    {UINT64_C(0xd), "qty-3", "if a code for the unit is present, the system SHALL also be present", {6, 5, 0, 0, 0, 0}, 2},
    /* Ratio: (numerator.empty() xor denominator.exists()) and (numerator.exists() or extension.exists()) */
    {UINT64_C(0x98), "rat-1", "numerator and denominator SHALL both be present, or both are absent. If both are absent, there SHALL be some extension present", {2, 3, 1, 0, 0, 0}, 3},
    /* TriggerDefinition: data.empty() or timing.empty() */
    {UINT64_C(0x7), "trd-1", "either timing, or a data requirement, but not both", {5, 4, 0, 0, 0, 0}, 2},
    /* TriggerDefinition: condition.exists() implies data.exists() */
    {UINT64_C(0xd), "trd-2", "a condition only if there is a data requirement", {6, 5, 0, 0, 0, 0}, 2},
    /* MoneyQuantity: code.empty() or system.exists() */
    {UINT64_C(0xd), "qty-3", "if a code for the unit is present, the system SHALL also be present", {6, 5, 0, 0, 0, 0}, 2},
    /* SimpleQuantity: code.empty() or system.exists() */
    {UINT64_C(0xd), "qty-3", "if a code for the unit is present, the system SHALL also be present", {6, 5, 0, 0, 0, 0}, 2},
    /* AppointmentResponse: participantType.exists() or actor.exists() */
    {UINT64_C(0xe), "apr-1", "either the participantType or actor must be specified", {12, 13, 0, 0, 0, 0}, 2},
    /* CapabilityStatement: rest.exists() or messaging.exists() or document.exists() */
    {UINT64_C(0xfe), "cpb-1", "a Capability Statement SHALL have at least one of REST, messaging or document element", {31, 32, 33, 0, 0, 0}, 3},
    /* Consent: policy.exists() or policyRule.exists() */
    {UINT64_C(0xe), "ppc-1", "either a Policy or PolicyRule", {17, 18, 0, 0, 0, 0}, 2},
    /* FamilyMemberHistory: age.empty() or born.empty() */
    {UINT64_C(0x7), "fhs-1", "can have age[x] or born[x], but not both", {19, 18, 0, 0, 0, 0}, 2},
    /* FamilyMemberHistory: age.exists() or estimatedAge.empty() */
    {UINT64_C(0xb), "fhs-2", "can only have estimatedAge if age[x] is present", {19, 20, 0, 0, 0, 0}, 2},
    /* List: emptyReason.empty() or entry.empty() */
    {UINT64_C(0x7), "lst-1", "a list can only have an emptyReason if it is empty", {20, 19, 0, 0, 0, 0}, 2},
    /* Observation: dataAbsentReason.empty() or value.empty() */
    {UINT64_C(0x7), "obs-6", "dataAbsentReason SHALL only be present if Observation.value[x] is not present", {21, 20, 0, 0, 0, 0}, 2},
    /* SearchParameter: xpath.empty() or xpathUsage.exists() */
    {UINT64_C(0xd), "spd-1", "if an xpath is present, there SHALL be an xpathUsage", {25, 26, 0, 0, 0, 0}, 2},
    /* ServiceRequest: orderDetail.empty() or code.exists() */
    {UINT64_C(0xd), "prr-1", "orderDetail SHALL only be present if code is present", {20, 19, 0, 0, 0, 0}, 2},
    /* StructureDefinition: snapshot.exists() or differential.exists() */
    {UINT64_C(0xe), "sdf-6", "a structure must have either a differential, or a snapshot (or both)", {33, 34, 0, 0, 0, 0}, 2},
    /* DataRequirement.codeFilter: path.exists() xor searchParam.exists() */
    {UINT64_C(0x6), "drq-1", "either a path or a searchParam must be provided, but not both", {2, 3, 0, 0, 0, 0}, 2},
    /* DataRequirement.dateFilter: path.exists() xor searchParam.exists() */
    {UINT64_C(0x6), "drq-2", "either a path or a searchParam must be provided, but not both", {2, 3, 0, 0, 0, 0}, 2},
    /* ElementDefinition.slicing: discriminator.exists() or description.exists() */
    {UINT64_C(0xe), "eld-1", "if there are no discriminators, there must be a definition", {2, 3, 0, 0, 0, 0}, 2},
    /* Timing.repeat: duration.empty() or durationUnit.exists() */
    {UINT64_C(0xd), "tim-1", "if there's a duration, there needs to be duration units", {5, 7, 0, 0, 0, 0}, 2},
    /* Timing.repeat: timeOfDay.empty() or when.empty() */
    {UINT64_C(0x7), "tim-10", "if there's a timeOfDay, there cannot be a when, or vice versa", {14, 15, 0, 0, 0, 0}, 2},
    /* Timing.repeat: period.empty() or periodUnit.exists() */
    {UINT64_C(0xd), "tim-2", "if there's a period, there needs to be period units", {10, 12, 0, 0, 0, 0}, 2},
    /* Timing.repeat: periodMax.empty() or period.exists() */
    {UINT64_C(0xd), "tim-6", "if there's a periodMax, there must be a period", {11, 10, 0, 0, 0, 0}, 2},
    /* Timing.repeat: durationMax.empty() or duration.exists() */
    {UINT64_C(0xd), "tim-7", "if there's a durationMax, there must be a duration", {6, 5, 0, 0, 0, 0}, 2},
    /* Timing.repeat: countMax.empty() or count.exists() */
    {UINT64_C(0xd), "tim-8", "if there's a countMax, there must be a count", {4, 3, 0, 0, 0, 0}, 2},
    /* Appointment.participant: type.exists() or actor.exists() */
    {UINT64_C(0xe), "app-1", "either the type or actor on the participant SHALL be specified", {3, 4, 0, 0, 0, 0}, 2},
    /* AuditEvent.entity: name.empty() or query.empty() */
    {UINT64_C(0x7), "sev-1", "either a name or a query (NOT both)", {8, 10, 0, 0, 0, 0}, 2},
    /* Bundle.entry: resource.exists() or request.exists() or response.exists() */
    {UINT64_C(0xfe), "bdl-5", "must be a resource unless there's a request or response", {5, 7, 8, 0, 0, 0}, 3},
    /* CarePlan.activity: detail.empty() or reference.empty() */
    {UINT64_C(0x7), "cpl-3", "provide a reference or detail, not both", {7, 6, 0, 0, 0, 0}, 2},
    /* Composition.section: text.exists() or entry.exists() or section.exists() */
    {UINT64_C(0xfe), "cmp-1", "a section must contain at least one of text, entries, or sub-sections", {7, 10, 12, 0, 0, 0}, 3},
    /* Composition.section: emptyReason.empty() or entry.empty() */
    {UINT64_C(0x7), "cmp-2", "a section can only have an emptyReason if it is empty", {11, 10, 0, 0, 0, 0}, 2},
    /* Condition.stage: summary.exists() or assessment.exists() */
    {UINT64_C(0xe), "con-1", "stage SHALL have summary or assessment", {3, 4, 0, 0, 0, 0}, 2},
    /* Condition.evidence: code.exists() or detail.exists() */
    {UINT64_C(0xe), "con-2", "evidence SHALL have code or details", {3, 4, 0, 0, 0, 0}, 2},
    /* CoverageEligibilityResponse.insurance.item: category.exists() xor productOrService.exists() */
    {UINT64_C(0x6), "ces-1", "SHALL contain a category or a billcode but not both", {3, 4, 0, 0, 0, 0}, 2},
    /* Goal.target: (detail.exists() and measure.exists()) or detail.exists().not() */
    {UINT64_C(0xd), "gol-1", "goal.target.measure is required if Goal.target.detail is populated", {4, 3, 0, 0, 0, 0}, 2},
    /* Immunization.education: documentType.exists() or reference.exists() */
    {UINT64_C(0xe), "imm-1", "one of documentType or reference SHALL be present", {3, 4, 0, 0, 0, 0}, 2},
    /* ImmunizationRecommendation.recommendation: vaccineCode.exists() or targetDisease.exists() */
    {UINT64_C(0xe), "imr-1", "one of vaccineCode or targetDisease SHALL be present", {3, 4, 0, 0, 0, 0}, 2},
    /* MedicationAdministration.dosage: dose.exists() or rate.exists() */
    {UINT64_C(0xe), "mad-1", "SHALL have at least one of dosage.dose or dosage.rate[x]", {7, 8, 0, 0, 0, 0}, 2},
    /* MolecularSequence.referenceSeq: (chromosome.empty() and genomeBuild.empty()) or (chromosome.exists() and genomeBuild.exists()) */
    {UINT64_C(0x9), "msq-5", "genomeBuild and chromosome must be both contained if either one of them is contained", {3, 4, 0, 0, 0, 0}, 2},
    /* Observation.referenceRange: low.exists() or high.exists() or text.exists() */
    {UINT64_C(0xfe), "obs-3", "must have at least a low or a high or text", {3, 4, 8, 0, 0, 0}, 3},
    /* OperationDefinition.parameter: type.exists() or part.exists() */
    {UINT64_C(0xe), "opd-1", "either a type must be provided, or parts", {8, 13, 0, 0, 0, 0}, 2},
    /* Parameters.parameter: (part.exists() and value.empty() and resource.empty()) or (part.empty() and (value.exists() xor resource.exists())) */
    {UINT64_C(0x16), "inv-1", "a parameter must have one and only one of (value, resource, part)", {6, 4, 5, 0, 0, 0}, 3},
    /* Patient.contact: name.exists() or telecom.exists() or address.exists() or organization.exists() */
    {UINT64_C(0xfffe), "pat-1", "SHALL at least contain a contact's details or a reference to an organization", {4, 5, 6, 8, 0, 0}, 4},
    /* Questionnaire.item: answerOption.empty() or initial.empty() */
    {UINT64_C(0x7), "que-11", "if one or more answerOption is present, initial[x] must be missing", {16, 17, 0, 0, 0, 0}, 2},
    /* Questionnaire.item: answerOption.empty() or answerValueSet.empty() */
    {UINT64_C(0x7), "que-4", "a question cannot have both answerOption and answerValueSet", {16, 15, 0, 0, 0, 0}, 2},
    /* QuestionnaireResponse.item: (answer.exists() and item.exists()).not() */
    {UINT64_C(0x7), "qrs-1", "nested item can't be beneath both item and answer", {6, 7, 0, 0, 0, 0}, 2},
    /* StructureDefinition.mapping: name.exists() or uri.exists() */
    {UINT64_C(0xe), "sdf-2", "must have at least a name or a uri (or both)", {5, 4, 0, 0, 0, 0}, 2},
    /* StructureMap.group.rule.target: element.exists() implies context.exists() */
    {UINT64_C(0xd), "smp-1", "can only have an element if you have a context", {5, 3, 0, 0, 0, 0}, 2},
    /* StructureMap.group.rule.target: context.exists() implies contextType.exists() */
    {UINT64_C(0xd), "smp-2", "must have a contextType if you have a context", {3, 4, 0, 0, 0, 0}, 2},
    /* TestReport.setup.action: operation.exists() xor assert.exists() */
    {UINT64_C(0x6), "inv-1", "setup action SHALL contain either an operation or assert but not both", {3, 4, 0, 0, 0, 0}, 2},
    /* TestReport.test.action: operation.exists() xor assert.exists() */
    {UINT64_C(0x6), "inv-2", "test action SHALL contain either an operation or assert but not both", {3, 4, 0, 0, 0, 0}, 2},
    /* TestScript.variable: expression.empty() or headerField.empty() or path.empty() */
    {UINT64_C(0x7f), "tst-3", "variable can only contain one of expression, headerField or path", {6, 7, 9, 0, 0, 0}, 3},
    /* TestScript.setup.action: operation.exists() xor assert.exists() */
    {UINT64_C(0x6), "tst-1", "setup action SHALL contain either an operation or assert but not both", {3, 4, 0, 0, 0, 0}, 2},
    /* TestScript.setup.action.assert: compareToSourceId.empty() xor (compareToSourceExpression.exists() or compareToSourcePath.exists()) */
    {UINT64_C(0xa9), "tst-10", "setup action assert SHALL contain either compareToSourceId and compareToSourceExpression, compareToSourceId and compareToSourcePath or neither", {6, 7, 8, 0, 0, 0}, 3},
    /* TestScript.test.action: operation.exists() xor assert.exists() */
    {UINT64_C(0x6), "tst-2", "test action SHALL contain either an operation or assert but not both", {3, 4, 0, 0, 0, 0}, 2},
    /* ValueSet.compose.include: valueSet.exists() or system.exists() */
    {UINT64_C(0xe), "vsd-1", "a value set include/exclude SHALL have a value set or a system", {7, 3, 0, 0, 0, 0}, 2},
    /* ValueSet.compose.include: (concept.exists() or filter.exists()) implies system.exists() */
    {UINT64_C(0xf1), "vsd-2", "a value set with concepts or filters SHALL include a system", {5, 6, 3, 0, 0, 0}, 3},
    /* ValueSet.compose.include: concept.empty() or filter.empty() */
    {UINT64_C(0x7), "vsd-3", "cannot have both concept and filter", {5, 6, 0, 0, 0, 0}, 2},
    /* ValueSet.expansion.contains: code.empty() or system.exists() */
    {UINT64_C(0xd), "vsd-10", "must have a system if a code is present", {7, 3, 0, 0, 0, 0}, 2},
    /* ValueSet.expansion.contains: code.exists() or display.exists() */
    {UINT64_C(0xe), "vsd-6", "SHALL have a code or a display", {7, 8, 0, 0, 0, 0}, 2},
};

/* Rules of type t: fhir_validate__rules[at[t] .. at[t + 1]). */
const uint16_t fhir_validate__rule_at[685] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 2, 2, 3, 3,
    4, 4, 5, 5, 6, 9, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10,
    10, 10, 10, 11, 11, 12, 12, 12, 12, 12, 12, 12, 14, 14, 15, 16,
    16, 16, 16, 16, 16, 16, 17, 17, 17, 17, 17, 17, 17, 18, 18, 18,
    18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 19, 19, 19,
    19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19,
    19, 19, 19, 19, 19, 19, 19, 21, 21, 21, 21, 21, 21, 21, 21, 21,
    21, 21, 21, 21, 21, 21, 21, 22, 22, 22, 22, 22, 22, 22, 22, 22,
    22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22,
    22, 23, 23, 23, 23, 23, 23, 23, 23, 23, 23, 23, 23, 23, 23, 23,
    23, 23, 23, 23, 23, 23, 23, 23, 23, 23, 23, 23, 24, 25, 25, 25,
    25, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26,
    26, 26, 26, 26, 27, 28, 28, 28, 29, 29, 29, 29, 29, 29, 29, 29,
    29, 35, 35, 35, 35, 35, 35, 35, 35, 36, 36, 36, 36, 37, 37, 37,
    37, 37, 37, 37, 38, 38, 38, 38, 38, 38, 38, 38, 38, 38, 38, 38,
    38, 38, 38, 38, 38, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39,
    39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39,
    39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39,
    39, 41, 41, 41, 41, 41, 41, 42, 43, 43, 43, 43, 43, 43, 43, 43,
    43, 43, 43, 43, 43, 43, 43, 43, 43, 43, 43, 43, 43, 43, 43, 43,
    43, 43, 43, 43, 43, 44, 44, 44, 44, 44, 44, 44, 44, 44, 44, 44,
    44, 44, 44, 44, 44, 44, 44, 44, 44, 44, 44, 44, 44, 44, 44, 44,
    44, 44, 44, 44, 44, 44, 44, 44, 44, 44, 44, 44, 44, 44, 44, 44,
    44, 44, 44, 44, 44, 44, 44, 44, 44, 44, 44, 44, 44, 44, 44, 44,
    44, 44, 44, 44, 44, 44, 44, 44, 45, 45, 45, 45, 45, 45, 45, 45,
    45, 45, 45, 45, 45, 46, 46, 46, 47, 47, 47, 47, 47, 47, 47, 47,
    47, 47, 47, 47, 47, 47, 47, 47, 47, 47, 47, 47, 47, 47, 47, 47,
    47, 47, 47, 47, 47, 47, 47, 47, 47, 47, 47, 47, 47, 47, 47, 47,
    47, 47, 47, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48,
    48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48,
    48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48,
    48, 48, 49, 49, 49, 49, 49, 49, 49, 49, 49, 49, 49, 49, 49, 49,
    49, 50, 50, 50, 50, 51, 51, 51, 51, 51, 51, 52, 53, 53, 53, 53,
    53, 53, 53, 53, 53, 53, 53, 53, 53, 53, 53, 53, 53, 53, 53, 53,
    55, 55, 55, 55, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 57, 57, 57, 57, 57,
    57, 57, 57, 57, 59, 59, 59, 59, 59, 59, 59, 59, 59, 59, 59, 59,
    59, 59, 59, 59, 59, 59, 59, 59, 59, 59, 59, 59, 59, 59, 59, 59,
    59, 59, 59, 59, 59, 59, 59, 59, 59, 59, 59, 59, 59, 59, 59, 59,
    59, 59, 59, 59, 59, 59, 59, 59, 59, 60, 60, 60, 60, 61, 61, 61,
    61, 61, 61, 61, 61, 61, 62, 62, 63, 63, 63, 64, 64, 65, 65, 65,
    65, 68, 68, 68, 68, 68, 68, 70, 70, 70, 70, 70, 70,
};

/* FHIR_VALIDATE__TF_*: what each type's objects need (validate_int.h). */
const uint8_t fhir_validate__type_flags[684] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 11, 0, 1, 0, 0, 0, 1, 0, 11,
    0, 11, 0, 1, 1, 1, 0, 0, 0, 0, 4, 0, 0, 0, 10, 0,
    0, 0, 1, 22, 1, 4, 0, 0, 0, 0, 0, 11, 0, 11, 1, 0,
    0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 26, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    19, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0,
    1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
    11, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 20, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
    0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0,
    0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0,
    1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0,
};

/* Error invariants not compiled here (checked by hand where the
 * validator's documentation says so, otherwise not checked):
 *   age-1 Age: not presence-only
 *   ait-1 AllergyIntolerance: not presence-only
 *   ait-2 AllergyIntolerance: not presence-only
 *   app-2 Appointment: not presence-only
 *   app-3 Appointment: not presence-only
 *   app-4 Appointment: not presence-only
 *   bdl-1 Bundle: not presence-only
 *   bdl-10 Bundle: not presence-only
 *   bdl-11 Bundle: not presence-only
 *   bdl-12 Bundle: not presence-only
 *   bdl-2 Bundle: not presence-only
 *   bdl-3 Bundle: not presence-only
 *   bdl-4 Bundle: not presence-only
 *   bdl-7 Bundle: not presence-only
 *   bdl-8 Bundle.entry: not presence-only
 *   bdl-9 Bundle: not presence-only
 *   cmd-1 ConceptMap.group.element.target: not presence-only
 *   cmd-2 ConceptMap.group.unmapped: not presence-only
 *   cmd-3 ConceptMap.group.unmapped: not presence-only
 *   cnt-3 Count: not presence-only
 *   con-4 Condition: not presence-only
 *   con-5 Condition: not presence-only
 *   cpb-12 CapabilityStatement.rest.resource: not presence-only
 *   cpb-14 CapabilityStatement: not presence-only
 *   cpb-15 CapabilityStatement: not presence-only
 *   cpb-16 CapabilityStatement: not presence-only
 *   cpb-2 CapabilityStatement: not presence-only
 *   cpb-3 CapabilityStatement: not presence-only
 *   cpb-7 CapabilityStatement: not presence-only
 *   cpb-9 CapabilityStatement.rest: not presence-only
 *   csd-1 CodeSystem: not presence-only
 *   ctm-1 CareTeam.participant: not presence-only
 *   dis-1 Distance: not presence-only
 *   dom-3 Account: not presence-only
 *   dom-3 ActivityDefinition: not presence-only
 *   dom-3 AdverseEvent: not presence-only
 *   dom-3 AllergyIntolerance: not presence-only
 *   dom-3 Appointment: not presence-only
 *   dom-3 AppointmentResponse: not presence-only
 *   dom-3 AuditEvent: not presence-only
 *   dom-3 Basic: not presence-only
 *   dom-3 BiologicallyDerivedProduct: not presence-only
 *   dom-3 BodyStructure: not presence-only
 *   dom-3 CapabilityStatement: not presence-only
 *   dom-3 CarePlan: not presence-only
 *   dom-3 CareTeam: not presence-only
 *   dom-3 CatalogEntry: not presence-only
 *   dom-3 ChargeItem: not presence-only
 *   dom-3 ChargeItemDefinition: not presence-only
 *   dom-3 Claim: not presence-only
 *   dom-3 ClaimResponse: not presence-only
 *   dom-3 ClinicalImpression: not presence-only
 *   dom-3 CodeSystem: not presence-only
 *   dom-3 Communication: not presence-only
 *   dom-3 CommunicationRequest: not presence-only
 *   dom-3 CompartmentDefinition: not presence-only
 *   dom-3 Composition: not presence-only
 *   dom-3 ConceptMap: not presence-only
 *   dom-3 Condition: not presence-only
 *   dom-3 Consent: not presence-only
 *   dom-3 Contract: not presence-only
 *   dom-3 Coverage: not presence-only
 *   dom-3 CoverageEligibilityRequest: not presence-only
 *   dom-3 CoverageEligibilityResponse: not presence-only
 *   dom-3 DetectedIssue: not presence-only
 *   dom-3 Device: not presence-only
 *   dom-3 DeviceDefinition: not presence-only
 *   dom-3 DeviceMetric: not presence-only
 *   dom-3 DeviceRequest: not presence-only
 *   dom-3 DeviceUseStatement: not presence-only
 *   dom-3 DiagnosticReport: not presence-only
 *   dom-3 DocumentManifest: not presence-only
 *   dom-3 DocumentReference: not presence-only
 *   dom-3 EffectEvidenceSynthesis: not presence-only
 *   dom-3 Encounter: not presence-only
 *   dom-3 Endpoint: not presence-only
 *   dom-3 EnrollmentRequest: not presence-only
 *   dom-3 EnrollmentResponse: not presence-only
 *   dom-3 EpisodeOfCare: not presence-only
 *   dom-3 EventDefinition: not presence-only
 *   dom-3 Evidence: not presence-only
 *   dom-3 EvidenceVariable: not presence-only
 *   dom-3 ExampleScenario: not presence-only
 *   dom-3 ExplanationOfBenefit: not presence-only
 *   dom-3 FamilyMemberHistory: not presence-only
 *   dom-3 Flag: not presence-only
 *   dom-3 Goal: not presence-only
 *   dom-3 GraphDefinition: not presence-only
 *   dom-3 Group: not presence-only
 *   dom-3 GuidanceResponse: not presence-only
 *   dom-3 HealthcareService: not presence-only
 *   dom-3 ImagingStudy: not presence-only
 *   dom-3 Immunization: not presence-only
 *   dom-3 ImmunizationEvaluation: not presence-only
 *   dom-3 ImmunizationRecommendation: not presence-only
 *   dom-3 ImplementationGuide: not presence-only
 *   dom-3 InsurancePlan: not presence-only
 *   dom-3 Invoice: not presence-only
 *   dom-3 Library: not presence-only
 *   dom-3 Linkage: not presence-only
 *   dom-3 List: not presence-only
 *   dom-3 Location: not presence-only
 *   dom-3 Measure: not presence-only
 *   dom-3 MeasureReport: not presence-only
 *   dom-3 Media: not presence-only
 *   dom-3 Medication: not presence-only
 *   dom-3 MedicationAdministration: not presence-only
 *   dom-3 MedicationDispense: not presence-only
 *   dom-3 MedicationKnowledge: not presence-only
 *   dom-3 MedicationRequest: not presence-only
 *   dom-3 MedicationStatement: not presence-only
 *   dom-3 MedicinalProduct: not presence-only
 *   dom-3 MedicinalProductAuthorization: not presence-only
 *   dom-3 MedicinalProductContraindication: not presence-only
 *   dom-3 MedicinalProductIndication: not presence-only
 *   dom-3 MedicinalProductIngredient: not presence-only
 *   dom-3 MedicinalProductInteraction: not presence-only
 *   dom-3 MedicinalProductManufactured: not presence-only
 *   dom-3 MedicinalProductPackaged: not presence-only
 *   dom-3 MedicinalProductPharmaceutical: not presence-only
 *   dom-3 MedicinalProductUndesirableEffect: not presence-only
 *   dom-3 MessageDefinition: not presence-only
 *   dom-3 MessageHeader: not presence-only
 *   dom-3 MolecularSequence: not presence-only
 *   dom-3 NamingSystem: not presence-only
 *   dom-3 NutritionOrder: not presence-only
 *   dom-3 Observation: not presence-only
 *   dom-3 ObservationDefinition: not presence-only
 *   dom-3 OperationDefinition: not presence-only
 *   dom-3 OperationOutcome: not presence-only
 *   dom-3 Organization: not presence-only
 *   dom-3 OrganizationAffiliation: not presence-only
 *   dom-3 Patient: not presence-only
 *   dom-3 PaymentNotice: not presence-only
 *   dom-3 PaymentReconciliation: not presence-only
 *   dom-3 Person: not presence-only
 *   dom-3 PlanDefinition: not presence-only
 *   dom-3 Practitioner: not presence-only
 *   dom-3 PractitionerRole: not presence-only
 *   dom-3 Procedure: not presence-only
 *   dom-3 Provenance: not presence-only
 *   dom-3 Questionnaire: not presence-only
 *   dom-3 QuestionnaireResponse: not presence-only
 *   dom-3 RelatedPerson: not presence-only
 *   dom-3 RequestGroup: not presence-only
 *   dom-3 ResearchDefinition: not presence-only
 *   dom-3 ResearchElementDefinition: not presence-only
 *   dom-3 ResearchStudy: not presence-only
 *   dom-3 ResearchSubject: not presence-only
 *   dom-3 RiskAssessment: not presence-only
 *   dom-3 RiskEvidenceSynthesis: not presence-only
 *   dom-3 Schedule: not presence-only
 *   dom-3 SearchParameter: not presence-only
 *   dom-3 ServiceRequest: not presence-only
 *   dom-3 Slot: not presence-only
 *   dom-3 Specimen: not presence-only
 *   dom-3 SpecimenDefinition: not presence-only
 *   dom-3 StructureDefinition: not presence-only
 *   dom-3 StructureMap: not presence-only
 *   dom-3 Subscription: not presence-only
 *   dom-3 Substance: not presence-only
 *   dom-3 SubstanceNucleicAcid: not presence-only
 *   dom-3 SubstancePolymer: not presence-only
 *   dom-3 SubstanceProtein: not presence-only
 *   dom-3 SubstanceReferenceInformation: not presence-only
 *   dom-3 SubstanceSourceMaterial: not presence-only
 *   dom-3 SubstanceSpecification: not presence-only
 *   dom-3 SupplyDelivery: not presence-only
 *   dom-3 SupplyRequest: not presence-only
 *   dom-3 Task: not presence-only
 *   dom-3 TerminologyCapabilities: not presence-only
 *   dom-3 TestReport: not presence-only
 *   dom-3 TestScript: not presence-only
 *   dom-3 ValueSet: not presence-only
 *   dom-3 VerificationResult: not presence-only
 *   dom-3 VisionPrescription: not presence-only
 *   drt-1 Duration: not presence-only
 *   eld-11 ElementDefinition: not presence-only
 *   eld-12 ElementDefinition.binding: not presence-only
 *   eld-13 ElementDefinition: not presence-only
 *   eld-14 ElementDefinition: not presence-only
 *   eld-16 ElementDefinition: not presence-only
 *   eld-17 ElementDefinition.type: not presence-only
 *   eld-18 ElementDefinition: not presence-only
 *   eld-19 ElementDefinition: not presence-only
 *   eld-2 ElementDefinition: not presence-only
 *   eld-3 ElementDefinition.max: not on a type or backbone element
 *   eld-4 ElementDefinition.type: not presence-only
 *   eld-5 ElementDefinition: not presence-only
 *   eld-6 ElementDefinition: not presence-only
 *   eld-7 ElementDefinition: not presence-only
 *   evv-1 EvidenceVariable.characteristic: not presence-only
 *   grp-1 Group: not presence-only
 *   ig-1 ImplementationGuide.definition: not presence-only
 *   ig-2 ImplementationGuide: not presence-only
 *   inv-1 Task: not presence-only
 *   ipn-1 InsurancePlan: not presence-only
 *   lnk-1 Linkage: not presence-only
 *   lst-2 List: not presence-only
 *   lst-3 List: not presence-only
 *   md-1 MessageDefinition.focus: not presence-only
 *   mdd-1 MedicationDispense: not presence-only
 *   mea-1 Measure: not presence-only
 *   mqty-1 MoneyQuantity: not presence-only
 *   mrp-1 MeasureReport: not presence-only
 *   mrp-2 MeasureReport: not presence-only
 *   msq-3 MolecularSequence: not presence-only
 *   msq-6 MolecularSequence.referenceSeq: not presence-only
 *   nsd-1 NamingSystem: not presence-only
 *   nsd-2 NamingSystem: not presence-only
 *   obs-7 Observation: not presence-only
 *   opd-2 OperationDefinition.parameter: not presence-only
 *   opd-3 OperationDefinition.parameter: not presence-only
 *   org-1 Organization: not presence-only
 *   org-2 Organization.address: not on a type or backbone element
 *   org-3 Organization.telecom: not on a type or backbone element
 *   per-1 Period: not presence-only
 *   ppc-2 Consent: not presence-only
 *   ppc-3 Consent: not presence-only
 *   ppc-4 Consent: not presence-only
 *   ppc-5 Consent: not presence-only
 *   que-1 Questionnaire.item: not presence-only
 *   que-10 Questionnaire.item: not presence-only
 *   que-12 Questionnaire.item: not presence-only
 *   que-13 Questionnaire.item: not presence-only
 *   que-2 Questionnaire: not presence-only
 *   que-3 Questionnaire.item: not presence-only
 *   que-5 Questionnaire.item: not presence-only
 *   que-6 Questionnaire.item: not presence-only
 *   que-7 Questionnaire.item.enableWhen: not presence-only
 *   que-8 Questionnaire.item: not presence-only
 *   que-9 Questionnaire.item: not presence-only
 *   ras-1 RiskAssessment.prediction.probability[x]: not on a type or backbone element
 *   ras-2 RiskAssessment.prediction: not presence-only
 *   rng-2 Range: not presence-only
 *   rqg-1 RequestGroup.action: not presence-only
 *   sdf-1 StructureDefinition: not presence-only
 *   sdf-10 StructureDefinition.snapshot.element: not on a type or backbone element
 *   sdf-11 StructureDefinition: not presence-only
 *   sdf-14 StructureDefinition: not presence-only
 *   sdf-15 StructureDefinition: not presence-only
 *   sdf-15a StructureDefinition: not presence-only
 *   sdf-16 StructureDefinition: not presence-only
 *   sdf-17 StructureDefinition: not presence-only
 *   sdf-18 StructureDefinition: not presence-only
 *   sdf-19 StructureDefinition: not presence-only
 *   sdf-20 StructureDefinition.differential: not presence-only
 *   sdf-21 StructureDefinition: not presence-only
 *   sdf-22 StructureDefinition: not presence-only
 *   sdf-23 StructureDefinition: not presence-only
 *   sdf-3 StructureDefinition.snapshot: not presence-only
 *   sdf-4 StructureDefinition: not presence-only
 *   sdf-5 StructureDefinition: not presence-only
 *   sdf-8 StructureDefinition.snapshot: not presence-only
 *   sdf-8a StructureDefinition.differential: not presence-only
 *   sdf-8b StructureDefinition.snapshot: not presence-only
 *   sdf-9 StructureDefinition: not presence-only
 *   spd-2 SearchParameter: not presence-only
 *   tcp-1 TerminologyCapabilities.codeSystem: not presence-only
 *   tcp-2 TerminologyCapabilities: not presence-only
 *   tcp-3 TerminologyCapabilities: not presence-only
 *   tcp-4 TerminologyCapabilities: not presence-only
 *   tcp-5 TerminologyCapabilities: not presence-only
 *   tim-4 Timing.repeat: not presence-only
 *   tim-5 Timing.repeat: not presence-only
 *   tim-9 Timing.repeat: not presence-only
 *   trd-3 TriggerDefinition: not presence-only
 *   tst-11 TestScript.test.action.assert: not on a type or backbone element
 *   tst-12 TestScript.setup.action.assert: not presence-only
 *   tst-13 TestScript.test.action.assert: not on a type or backbone element
 *   tst-4 TestScript.metadata: not presence-only
 *   tst-5 TestScript.setup.action.assert: not presence-only
 *   tst-6 TestScript.test.action.assert: not on a type or backbone element
 *   tst-7 TestScript.setup.action.operation: not presence-only
 *   tst-8 TestScript.test.action.operation: not on a type or backbone element
 *   tst-9 TestScript.teardown.action.operation: not on a type or backbone element
 *   vsd-9 ValueSet.expansion.contains: not presence-only
 */

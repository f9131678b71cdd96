import limits from './limits.json';

/**
 * The API's maxLength for each form field, so an input stops where the server would refuse.
 * limits.json mirrors the OpenAPI schema; creditdesk/core/tests/test_frontend_limits.py fails when they differ.
 */
export const MAX_LENGTH: Record<string, number> = limits;

export const maxLengthOf = (field: string): number | undefined => MAX_LENGTH[field];

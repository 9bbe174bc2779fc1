/* The OpenAPI schemas generated at build time by tools/gen-openapi.py,
 * embedded in kx-store as kx_openapi_json .. kx_openapi_json_end. */
	.section .rodata
	.global kx_openapi_json
	.global kx_openapi_json_end
kx_openapi_json:
	.incbin OPENAPI_JSON
kx_openapi_json_end:
	.byte 0
	.section .note.GNU-stack,"",@progbits

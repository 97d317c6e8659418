/*
 * nestsim guest firmware: the interrupt vectors of an L2 guest that runs one freestanding Linux
 * program in real mode (MSR[IR] = MSR[DR] = 0, HV = 0, PR = 0, SF = 1, LE = 1, LPCR[ILE] = 1,
 * AIL = 0). It is real Power code reached through the real interrupt machinery; it talks to the
 * L1 only with hcalls (`sc 1`). ABI: docs/guests.md.
 *
 *   0x0000        `trap`: a branch to address 0 (a call through a null pointer) is a program
 *                 interrupt with SRR0 = 0, reported like any other crash
 *   0x0008        header: magic "NSFW", version, image size
 *   0x0100..0x0F80 one stub per vector: r4 = vector number, then crash_common
 *   0x0C00        system call (`sc 0`): the Linux syscall becomes NS_SYSCALL (below)
 *   0x1000        crash_common: NS_CRASH with the interrupt's registers, forever
 *
 * Scratch state: SPRG0 and SPRG1 hold the program's SRR0/SRR1 across the hcall (the `sc 1`
 * interrupt overwrites SRR0/SRR1, and the hypervisor may clobber r0 and r3..r12). The firmware
 * uses no memory, so it works for any number of vCPUs and needs no stack.
 */

	.set	NS_SYSCALL, 0xf100	/* hypervisor/papr.ts NestsimHcall.NS_SYSCALL */
	.set	NS_CRASH, 0xf104	/* hypervisor/papr.ts NestsimHcall.NS_CRASH */
	.set	FW_VERSION, 1
	.set	ENOSYS, 38		/* Linux errno when the hypervisor refuses NS_SYSCALL */
	.set	MAX_ERRNO, 4095		/* results in [-4095, -1] are -errno (Linux convention) */
	.set	SPRG0, 272
	.set	SPRG1, 273
	.globl	NS_SYSCALL, NS_CRASH, FW_VERSION

	.section ".text", "ax"
	.globl	fw_base
fw_base:
	trap				/* 0x0: see above */
	trap
fw_header:
	.ascii	"NSFW"			/* 0x8 */
	.long	FW_VERSION		/* 0xc */
	.long	fw_end - fw_base	/* 0x10: bytes of the image */
	.long	0

/* A crash stub: two instructions, so that it fits in the 0x20-byte slots at 0xE00 and 0xF00. */
	.macro	vector addr, name
	.org	fw_base + \addr
	.globl	vec_\name
vec_\name:
	li	4, \addr
	b	crash_common
	.endm

	vector	0x100, system_reset
	vector	0x200, machine_check
	vector	0x300, data_storage
	vector	0x380, data_segment
	vector	0x400, instruction_storage
	vector	0x480, instruction_segment
	vector	0x500, external
	vector	0x600, alignment
	vector	0x700, program
	vector	0x800, fp_unavailable
	vector	0x900, decrementer
	vector	0x980, hv_decrementer
	vector	0xa00, doorbell
	vector	0xb00, reserved_b00

/*
 * System call, `sc 0` (Linux convention): r0 = number, r3..r8 = arguments. Forwarded as
 *   sc 1 with r3 = NS_SYSCALL, r4 = number, r5..r10 = arguments
 * and answered with r3 = hcall status, r4 = result (-errno on failure). Back in the program,
 * r3 = result and CR0[SO] clear, or r3 = errno and CR0[SO] set; r0, r4..r12, CTR, XER and CR0's
 * other bits are undefined (volatile in the Linux syscall ABI), everything else is preserved.
 */
	.org	fw_base + 0xc00
	.globl	vec_system_call
vec_system_call:
	mfsrr0	11
	mtspr	SPRG0, 11
	mfsrr1	11
	mtspr	SPRG1, 11
	mr	10, 8
	mr	9, 7
	mr	8, 6
	mr	7, 5
	mr	6, 4
	mr	5, 3
	mr	4, 0
	li	3, 0
	ori	3, 3, NS_SYSCALL
	sc	1
	cmpdi	3, 0			/* hcall status: anything but H_SUCCESS → ENOSYS */
	bne	1f
	mr	3, 4
	cmpdi	3, -MAX_ERRNO
	blt	2f			/* below -4095: a result (e.g. an address), not an error */
	cmpdi	3, 0
	bge	2f
	neg	3, 3			/* -errno → errno, CR0[SO] set */
	b	3f
1:	li	3, ENOSYS
3:	creqv	so, so, so		/* CR0[SO] = 1 */
	b	4f
2:	crxor	so, so, so		/* CR0[SO] = 0 */
4:	mfspr	11, SPRG0
	mtsrr0	11
	mfspr	11, SPRG1
	mtsrr1	11
	rfid

	vector	0xd00, trace
	vector	0xe00, hv_data_storage
	vector	0xe20, hv_instruction_storage
	vector	0xe40, hv_emulation_assist
	vector	0xe60, hv_maintenance
	vector	0xe80, hv_doorbell
	vector	0xea0, hv_virtualization
	vector	0xf00, performance_monitor
	vector	0xf20, vmx_unavailable
	vector	0xf40, vsx_unavailable
	vector	0xf60, facility_unavailable
	vector	0xf80, hv_facility_unavailable

/*
 * Crash report: r4 = vector (set by the stub); r5 = SRR0, r6 = SRR1, r7 = DAR, r8 = DSISR,
 * r9 = LR and r10 = r1 as they were when the interrupt hit (the stub touched neither). The
 * values are kept in r14..r20 (the program never runs again) and the hcall is repeated if the
 * hypervisor ever returns: a crashed program must not resume.
 */
	.org	fw_base + 0x1000
	.globl	crash_common
crash_common:
	mr	14, 4
	mfsrr0	15
	mfsrr1	16
	mfdar	17
	mfdsisr	18
	mflr	19
	mr	20, 1
1:	li	3, 0
	ori	3, 3, NS_CRASH
	mr	4, 14
	mr	5, 15
	mr	6, 16
	mr	7, 17
	mr	8, 18
	mr	9, 19
	mr	10, 20
	sc	1
	b	1b

	.p2align 4
	.globl	fw_end
fw_end:

// Kernel lines that say whether hardware virtualization and the IOMMU work, sorted into positive and negative by
// whole messages as the kernel prints them (never a substring such as "hyp mode", which "HYP mode not available"
// also contains). Pure: the suite reads dmesg.

/** A dmesg line without its `[    0.123456] ` timestamp. */
export function stripStamp(line: string): string {
  return line.replace(/^\s*\[[^\]]*\]\s*/, '').trim();
}

export interface Classified {
  positive: string[];
  negative: string[];
}

function classify(lines: string[], positive: RegExp[], negative: RegExp[]): Classified {
  const out: Classified = { positive: [], negative: [] };
  for (const line of lines) {
    const text = stripStamp(line);
    if (negative.some((re) => re.test(text))) out.negative.push(line);
    else if (positive.some((re) => re.test(text))) out.positive.push(line);
  }
  return out;
}

// arch/arm64/kvm/arm.c (kvm_info at init) and arch/arm64/kernel/smp.c (hyp_mode_check)
const HYP_POSITIVE = [/^kvm \[\d+\]: (Hyp|VHE|nVHE|Protected nVHE) mode initialized successfully$/, /^CPU: All CPU\(s\) started at EL2$/];
const HYP_NEGATIVE = [/^kvm \[\d+\]: HYP mode not available$/, /^kvm \[\d+\]: error initializing Hyp mode/i, /^CPU: All CPU\(s\) started at EL1$/, /^CPU: CPUs started in inconsistent modes$/];

/** arm64: the lines proving EL2 is usable for KVM, and those saying it is not. */
export function classifyHypLines(lines: string[]): Classified {
  return classify(lines, HYP_POSITIVE, HYP_NEGATIVE);
}

// drivers/iommu/intel/dmar.c + iommu.c, drivers/iommu/amd/init.c, drivers/iommu/arm/arm-smmu{,-v3}
const IOMMU_POSITIVE = [
  /^DMAR: IOMMU enabled$/,
  /^DMAR: Intel\(R\) Virtualization Technology for Directed I\/O$/,
  /^(pci [0-9a-f:.]+: )?AMD-Vi: Found IOMMU\b/,
  /^AMD-Vi: (Interrupt remapping enabled|AMD IOMMUv2 loaded and initialized)/,
  /^arm-smmu(-v3)? \S+: (probing hardware configuration|SMMUv\d with:|\tstage \d translation)/,
];
const IOMMU_NEGATIVE = [/^DMAR: IOMMU disabled$/, /^AMD-Vi: .*disabled/i, /^DMAR: (Disable|Disabling) IOMMU/i, /IOMMU not (enabled|found)/i];

/** The lines saying an IOMMU (VT-d, AMD-Vi, SMMU) came up, and those saying it is off. */
export function classifyIommuLines(lines: string[]): Classified {
  return classify(lines, IOMMU_POSITIVE, IOMMU_NEGATIVE);
}

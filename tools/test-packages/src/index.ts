export { publishedPackages, repoRoot, withPublishedDependencies, workspacePackages } from './workspace.js';
export type { PackageManifest, WorkspacePackage } from './workspace.js';
export { packPackage, pnpmCommand } from './pack.js';
export type { PackedPackage } from './pack.js';
export { installTarballs, plainNpmEnv } from './install.js';
export type { InstallOptions } from './install.js';
export { bareImports, blockFile, codeBlocks, fileBlocks, firstExample, installedPackages, readmeExampleFile } from './readme.js';
export type { CodeBlock, ReadmeExample } from './readme.js';

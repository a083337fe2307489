import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The layer rules of DESIGN.md, checked on the source text. Typecheck catches most crossings
// (each layer has its own tsconfig); this also catches what a tsconfig cannot: a DOM global in
// code that happens to be covered by DOM lib types, a `require('electron')`, a `/// <reference>`.

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const sourceExtensions = ['.ts', '.tsx', '.mts', '.cts'];

/** Headless layers: they run in plain Node, so no Electron, no React, no browser globals. */
const headlessLayers = ['src/core', 'src/shared'];
const uiOnlyModules = ['electron', 'react', 'react-dom'];
const domGlobals = ['window', 'document', 'navigator', 'localStorage', 'sessionStorage'];

/** Sandboxed layers: they may reach src/shared and themselves, never the Node side. */
const sandboxedLayers = ['src/preload', 'src/renderer'];

interface ModuleReference {
  specifier: string;
  line: number;
}

describe('layering', () => {
  it.each(headlessLayers)('%s imports nothing from electron, react or react-dom', (layer) => {
    const violations = sourceFiles(layer).flatMap((file) =>
      moduleReferences(file)
        .filter((ref) => uiOnlyModules.some((m) => ref.specifier === m || ref.specifier.startsWith(`${m}/`)))
        .map((ref) => `${display(file)}:${ref.line} imports "${ref.specifier}"`),
    );
    expect(violations, 'the core and shared contracts must run in plain Node').toEqual([]);
  });

  it.each(headlessLayers)('%s uses no DOM globals', (layer) => {
    const violations = sourceFiles(layer).flatMap((file) =>
      domGlobalUses(file).map((use) => `${display(file)}:${use.line} uses the DOM global "${use.name}"`),
    );
    expect(violations, 'the core and shared contracts must run in plain Node').toEqual([]);
  });

  it.each(sandboxedLayers)('%s imports only from itself and src/shared', (layer) => {
    const allowed = [resolve(repoRoot, layer), resolve(repoRoot, 'src/shared')];
    const violations = sourceFiles(layer).flatMap((file) =>
      moduleReferences(file).flatMap((ref) => {
        if (ref.specifier === 'electron' && layer === 'src/preload') return [];
        if (ref.specifier === 'electron' || ref.specifier.startsWith('electron/')) {
          return [`${display(file)}:${ref.line} imports "${ref.specifier}" (only the preload may)`];
        }
        if (!ref.specifier.startsWith('.')) return [];
        const target = resolve(dirname(file), ref.specifier);
        if (allowed.some((dir) => target === dir || target.startsWith(dir + sep))) return [];
        return [`${display(file)}:${ref.line} imports "${ref.specifier}", which is ${display(target)}`];
      }),
    );
    expect(violations, 'the preload and renderer may reach only src/shared').toEqual([]);
  });

  it('finds the layers it is meant to check', () => {
    for (const layer of [...headlessLayers, ...sandboxedLayers]) {
      expect(sourceFiles(layer).length, `${layer} has no source files; was it moved?`).toBeGreaterThan(0);
    }
  });
});

describe('layering scanner', () => {
  it('sees static, dynamic, re-export, require and type-reference imports', () => {
    const file = scratchFile(`
      /// <reference types="electron" />
      import { app } from 'electron';
      import type { FC } from 'react';
      export * from 'react-dom/client';
      const m = await import('electron/main');
      const r = require('react');
      import e = require('electron');
    `);
    expect(moduleReferences(file).map((r) => r.specifier)).toEqual([
      'electron',
      'electron',
      'react',
      'react-dom/client',
      'electron/main',
      'react',
      'electron',
    ]);
  });

  it('flags DOM globals but not locals, properties or words in comments that share their names', () => {
    const flagged = scratchFile(`
      // the window of the rate limiter
      export const size = window.innerWidth + document.title.length;
      const t = typeof navigator;
    `);
    expect(domGlobalUses(flagged).map((u) => u.name)).toEqual(['window', 'document', 'navigator']);

    const clean = scratchFile(`
      export function slide(window: { start: number }, limits: { document: string }) {
        const { document } = limits;
        return { window: window.start, document, localStorage: 1 };
      }
    `);
    expect(domGlobalUses(clean)).toEqual([]);
  });
});

function sourceFiles(layer: string): string[] {
  const dir = resolve(repoRoot, layer);
  let entries;
  try {
    entries = readdirSync(dir, { recursive: true, withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isFile() && sourceExtensions.some((ext) => e.name.endsWith(ext)))
    .map((e) => join(e.parentPath, e.name))
    .filter((file) => !file.includes(`${sep}__layer_violation__${sep}`))
    .sort();
}

const scratchSources = new Map<string, string>();
let scratchCount = 0;

/** An in-memory source file for the scanner's own tests. */
function scratchFile(text: string): string {
  const name = join(repoRoot, `scratch-${scratchCount++}.ts`);
  scratchSources.set(name, text);
  return name;
}

function parse(file: string): ts.SourceFile {
  const text = scratchSources.get(file) ?? readFileSync(file, 'utf8');
  const kind = file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  return ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
}

function lineOf(source: ts.SourceFile, pos: number): number {
  return source.getLineAndCharacterOfPosition(pos).line + 1;
}

/** Every module a file names: import/export from, import(), require(), import = require, and `/// <reference types>`. */
function moduleReferences(file: string): ModuleReference[] {
  const source = parse(file);
  const refs: ModuleReference[] = source.typeReferenceDirectives.map((d) => ({
    specifier: d.fileName,
    line: lineOf(source, d.pos),
  }));
  const add = (node: ts.Node | undefined) => {
    if (node && ts.isStringLiteralLike(node)) refs.push({ specifier: node.text, line: lineOf(source, node.getStart(source)) });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) {
      add(node.moduleSpecifier);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node.moduleReference.expression);
    } else if (ts.isCallExpression(node)) {
      const isDynamicImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      if (isDynamicImport || isRequire) add(node.arguments[0]);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return refs;
}

/**
 * References to browser globals. A file that declares its own binding of that name anywhere
 * (a parameter called `window`, say) is given the benefit of the doubt for that name: the
 * typecheck, with no DOM lib in these layers, covers the rest.
 */
function domGlobalUses(file: string): { name: string; line: number }[] {
  const source = parse(file);
  const declared = new Set<string>();
  const uses: { name: string; line: number }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && domGlobals.includes(node.text)) {
      if (isDeclarationName(node)) declared.add(node.text);
      else if (isValueReference(node)) uses.push({ name: node.text, line: lineOf(source, node.getStart(source)) });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return uses.filter((u) => !declared.has(u.name));
}

function isDeclarationName(node: ts.Identifier): boolean {
  const parent = node.parent;
  return (
    ((ts.isVariableDeclaration(parent) ||
      ts.isParameter(parent) ||
      ts.isFunctionDeclaration(parent) ||
      ts.isClassDeclaration(parent) ||
      ts.isImportSpecifier(parent) ||
      ts.isImportClause(parent) ||
      ts.isNamespaceImport(parent)) &&
      parent.name === node) ||
    (ts.isBindingElement(parent) && parent.name === node)
  );
}

/** An identifier read as a value, not a property name, object key, label or type name. */
function isValueReference(node: ts.Identifier): boolean {
  const parent = node.parent;
  if (ts.isPropertyAccessExpression(parent) && parent.name === node) return false;
  if ((ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent) || ts.isPropertySignature(parent)) && parent.name === node) return false;
  if (ts.isMethodDeclaration(parent) || ts.isMethodSignature(parent)) return parent.name !== node;
  if (ts.isBindingElement(parent) && parent.propertyName === node) return false;
  if (ts.isQualifiedName(parent) || ts.isTypeReferenceNode(parent)) return false;
  if (ts.isLabeledStatement(parent) || ts.isBreakOrContinueStatement(parent)) return false;
  if (ts.isExportSpecifier(parent) || ts.isImportSpecifier(parent)) return false;
  return true;
}

function display(path: string): string {
  return relative(repoRoot, path).split(sep).join('/');
}

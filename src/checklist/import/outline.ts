/**
 * The outline of a Markdown checklist: its headings and task-list boxes, with the lines that
 * belong to each box (bullets, paragraphs, code). Fenced code, HTML comments and front matter
 * are skipped, so boxes written there are not boxes.
 */

export interface Heading {
  line: number;
  level: number;
  text: string;
  /** Index of the enclosing heading (the nearest above with a lower level), -1 at the top. */
  parent: number;
}

export interface Box {
  line: number;
  indent: number;
  checked: boolean;
  text: string;
  /** Bullets, paragraphs and code written under the box that are not boxes. */
  details: string[];
  parent: Box | undefined;
  childBoxes: number;
  /** Index in `headings` of the nearest heading above, -1 when there is none. */
  heading: number;
}

export interface Outline {
  headings: Heading[];
  boxes: Box[];
  /** List items that are not boxes and belong to no box: reported when no box is found. */
  looseListItems: number;
}

const ATX_HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const SETEXT_UNDERLINE = /^ {0,3}(=+|-+)[ \t]*$/;
const THEMATIC_BREAK = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const FENCE = /^(\s*)(`{3,}|~{3,})/;
const TASK_BOX = /^(\s*)(?:[-*+]|\d{1,9}[.)])[ \t]+\[([ xX])\](?:[ \t]+(.*?))?[ \t]*$/;
const LIST_ITEM = /^(\s*)(?:[-*+]|\d{1,9}[.)])(?:[ \t]+(.*?))?[ \t]*$/;

/** Leading tabs to spaces (tab stops of 4), so indentation compares in columns. */
function expandLeadingTabs(line: string): string {
  const lead = /^[ \t]*/.exec(line)![0];
  if (!lead.includes('\t')) return line;
  let col = 0;
  for (const ch of lead) col = ch === '\t' ? col + 4 - (col % 4) : col + 1;
  return ' '.repeat(col) + line.slice(lead.length);
}

const indentOf = (line: string): number => /^ */.exec(line)![0].length;

/** YAML front matter at the top of the file is metadata, not checklist text. */
function frontMatterEnd(lines: string[]): number {
  if (lines[0]?.trim() !== '---') return 0;
  const end = lines.findIndex((l, i) => i > 0 && (l.trim() === '---' || l.trim() === '...'));
  return end > 0 ? end + 1 : 0;
}

class OutlineReader {
  readonly headings: Heading[] = [];
  readonly boxes: Box[] = [];
  looseListItems = 0;
  private open: Box[] = [];
  /** Indices of the headings whose sections are still open, outermost first. */
  private openHeadings: number[] = [];
  private fence: { marker: string; owner: Box | undefined; indent: number } | undefined;
  private inHtmlComment = false;
  /** The box whose paragraph the previous line continued (lazy continuation lines join its text). */
  private paragraphOf: Box | undefined;
  /** The previous line was a top-level paragraph line: a setext underline makes it a heading. */
  private previousParagraph: { line: number; text: string } | undefined;

  read(lines: string[]): Outline {
    for (let i = frontMatterEnd(lines); i < lines.length; i++)
      this.readLine(expandLeadingTabs(lines[i]!), i + 1);
    return { headings: this.headings, boxes: this.boxes, looseListItems: this.looseListItems };
  }

  private readLine(line: string, lineNo: number): void {
    const paragraph = this.previousParagraph;
    this.previousParagraph = undefined;
    if (this.fence) {
      this.readFenced(line);
    } else if (this.skipHtmlComment(line)) {
      // inside <!-- … -->: boxes there are commented out
    } else if (line.trim() === '') {
      this.paragraphOf = undefined;
    } else if (!this.readBlockStart(line, lineNo, paragraph)) {
      this.readListOrText(line, lineNo);
    }
  }

  /** Fences, headings and thematic breaks; false when the line is none of them. */
  private readBlockStart(
    line: string,
    lineNo: number,
    paragraph: OutlineReader['previousParagraph'],
  ): boolean {
    const fence = FENCE.exec(line);
    const atx = ATX_HEADING.exec(line);
    if (fence) this.openFence(fence[2]!, indentOf(line));
    else if (atx) this.addHeading(lineNo, atx[1]!.length, atx[2] ?? '');
    else if (paragraph && this.open.length === 0 && SETEXT_UNDERLINE.test(line)) {
      this.addHeading(paragraph.line, line.trim().startsWith('=') ? 1 : 2, paragraph.text);
    } else if (THEMATIC_BREAK.test(line)) this.closeLists();
    else return false;
    return true;
  }

  private readListOrText(line: string, lineNo: number): void {
    const box = TASK_BOX.exec(line);
    const item = box ? undefined : LIST_ITEM.exec(line);
    if (box) this.addBox(lineNo, box[1]!.length, box[2] !== ' ', box[3] ?? '');
    else if (item) this.addListItem(item[1]!.length, item[2] ?? '');
    else this.addText(line, lineNo);
  }

  private skipHtmlComment(line: string): boolean {
    if (this.inHtmlComment) {
      if (line.includes('-->')) this.inHtmlComment = false;
      return true;
    }
    if (/^\s*<!--/.test(line) && !line.includes('-->')) {
      this.inHtmlComment = true;
      return true;
    }
    return false;
  }

  private openFence(marker: string, indent: number): void {
    this.fence = { marker, owner: this.ownerAt(indent), indent };
    this.paragraphOf = undefined;
  }

  private readFenced(line: string): void {
    const fence = this.fence!;
    const close = FENCE.exec(line);
    if (
      close &&
      close[2]![0] === fence.marker[0] &&
      close[2]!.length >= fence.marker.length &&
      line.trim() === close[2]
    ) {
      this.fence = undefined;
      return;
    }
    if (fence.owner && line.trim() !== '')
      fence.owner.details.push(line.slice(Math.min(fence.indent, indentOf(line))));
  }

  private addHeading(line: number, level: number, text: string): void {
    while (this.openHeadings.length > 0 && this.headings[this.openHeadings.at(-1)!]!.level >= level) {
      this.openHeadings.pop();
    }
    this.headings.push({ line, level, text, parent: this.openHeadings.at(-1) ?? -1 });
    this.openHeadings.push(this.headings.length - 1);
    this.closeLists();
  }

  private closeLists(): void {
    this.open = [];
    this.paragraphOf = undefined;
  }

  /** The innermost open box that a line indented this far belongs to. */
  private ownerAt(indent: number): Box | undefined {
    for (let i = this.open.length - 1; i >= 0; i--) if (this.open[i]!.indent < indent) return this.open[i];
    return undefined;
  }

  private addBox(line: number, indent: number, checked: boolean, text: string): void {
    while (this.open.length > 0 && this.open.at(-1)!.indent >= indent) this.open.pop();
    const parent = this.open.at(-1);
    if (parent) parent.childBoxes++;
    const box: Box = {
      line,
      indent,
      checked,
      text,
      details: [],
      parent,
      childBoxes: 0,
      heading: this.headings.length - 1,
    };
    this.boxes.push(box);
    this.open.push(box);
    this.paragraphOf = box;
  }

  private addListItem(indent: number, text: string): void {
    const owner = this.ownerAt(indent);
    this.paragraphOf = undefined;
    if (!owner) {
      this.closeLists();
      this.looseListItems++;
      return;
    }
    while (this.open.at(-1) !== owner) this.open.pop();
    if (text !== '') owner.details.push(text);
  }

  private addText(line: string, lineNo: number): void {
    if (this.paragraphOf) {
      this.paragraphOf.text = `${this.paragraphOf.text} ${line.trim()}`.trim();
      return;
    }
    const owner = this.ownerAt(indentOf(line));
    if (owner) {
      owner.details.push(line.trim());
      return;
    }
    this.closeLists();
    this.previousParagraph = { line: lineNo, text: line.trim() };
  }
}

/** The outline of Markdown text whose line endings are already "\n". */
export function readOutline(text: string): Outline {
  return new OutlineReader().read(text.split('\n'));
}

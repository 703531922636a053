/**
 * Per-host templates of managed files, rendered with Mustache (logic-less; a kept engine, not a
 * home-made one). Values come only from fjord.yaml: the host's name, address and labels, the app and
 * the environment. No HTML escaping: the output is a config file, not a web page.
 */
import Mustache from 'mustache';

export interface TemplateHost {
  name: string;
  address: string;
  labels: Record<string, string>;
}

export interface TemplateView {
  host: TemplateHost;
  app: string;
  environment: string;
}

export const renderTemplate = (template: string, view: TemplateView): string =>
  Mustache.render(template, view, {}, { escape: (value: unknown) => String(value) });
